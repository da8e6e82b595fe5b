"""What consumer law asks the portal to tell buyers: the right of withdrawal (with the model form) and the
information of an online marketplace (how offers are ranked, who sells, who answers for what)."""
