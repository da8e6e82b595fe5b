"""The portal's terms, privacy policy, contact page and accessibility statement, kept as numbered versions."""
