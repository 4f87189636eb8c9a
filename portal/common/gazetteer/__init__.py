"""The gazetteer: the council's addresses (UPRN, postcode, coordinates, ward) and lookups."""
