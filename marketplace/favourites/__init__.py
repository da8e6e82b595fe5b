"""Favourites (ulubione): PES and offerings a signed-in person saved, to come back to them and to ask
several PES at once."""
