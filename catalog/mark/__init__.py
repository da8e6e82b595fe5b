"""The regional quality mark: applications, committee review, awarded certificates and the public register."""
