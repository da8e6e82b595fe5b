"""PES profiles: the entities that sell on the portal, their members and their verification."""
