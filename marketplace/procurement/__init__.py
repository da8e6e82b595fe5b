"""Public procurement: social-clause guidance, legal values as versioned data, the clause builder and
supplier shortlists for public purchasers."""
