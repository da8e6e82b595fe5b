"""The public JSON API (CONTRACT section 4); its blueprint is `marketplace.api.views.bp`."""
