# Renders one job template the way BOSH does: ERB with trim_mode "-", evaluated in a context whose properties are
# only the job spec's (manifest value, else the spec default), read with p() / if_p().
# Usage: ruby render_template.rb CONTEXT.json TEMPLATE.erb OUTPUT
# CONTEXT.json: {"properties": {...manifest properties...}, "default_properties": {"a.b": default-or-null, ...}}
require "erb"
require "json"

class UnknownProperty < StandardError; end

class EvaluationContext
  def initialize(context)
    @properties = {}
    context["default_properties"].each do |name, default|
      value = lookup(context["properties"], name)
      assign(name, value.nil? ? default : value)
    end
  end

  def p(*args)
    names = Array(args[0])
    names.each do |name|
      value = lookup(@properties, name)
      return value unless value.nil?
    end
    return args[1] if args.length == 2
    raise UnknownProperty, "Can't find property '#{names.join("', or '")}'"
  end

  def if_p(*names)
    values = names.map do |name|
      value = lookup(@properties, name)
      return nil if value.nil?
      value
    end
    yield(*values)
  end

  def get_binding
    binding
  end

  private

  def lookup(hash, name)
    name.split(".").reduce(hash) { |ref, key| ref.is_a?(Hash) ? ref[key] : nil }
  end

  def assign(name, value)
    keys = name.split(".")
    ref = keys[0..-2].reduce(@properties) { |h, key| h[key] ||= {} }
    ref[keys[-1]] = value
  end
end

context_path, template_path, output_path = ARGV
context = EvaluationContext.new(JSON.parse(File.read(context_path)))
erb = ERB.new(File.read(template_path), trim_mode: "-")
File.write(output_path, erb.result(context.get_binding))
