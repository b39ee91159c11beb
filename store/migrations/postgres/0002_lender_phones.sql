-- Lenders' help and agent phone numbers (E.164).
ALTER TABLE lenders ADD COLUMN help_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE lenders ADD COLUMN agent_phone TEXT NOT NULL DEFAULT '';
