"""The portal's core: configuration, extensions, the region, PES profiles and moderation."""
