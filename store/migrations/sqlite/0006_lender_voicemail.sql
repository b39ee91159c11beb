-- What a lender's limited-content voicemail (12 CFR 1006.2(j)) names: a
-- business name that does not say it collects debts ('' means the lender's
-- name) and a natural person to call back.
ALTER TABLE lenders ADD COLUMN voicemail_business_name TEXT NOT NULL DEFAULT '';
ALTER TABLE lenders ADD COLUMN voicemail_caller_name TEXT NOT NULL DEFAULT '';
