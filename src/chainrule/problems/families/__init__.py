"""One module per problem family; each registers its Family with ``@register``."""
