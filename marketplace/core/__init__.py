"""Pages and helpers that belong to no single feature: home, language, media, errors."""
