"""Status-API wire models (camelCase JSON) and the views that build them from domain objects."""
