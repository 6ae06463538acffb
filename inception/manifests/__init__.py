"""BOSH manifests: builders per kind (director, cf, cloud_config), go-patch ops, ((variable)) interpolation,
secrets and the vars store, validation, and the render pipeline (render.py)."""
