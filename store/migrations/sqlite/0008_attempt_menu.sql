-- The numbered menu an SMS offered ("Reply 1 to pay $300.00 by Fri 12/04, 2
-- if you already paid"), as JSON by key ({"1": {"intent": "promise", "date":
-- "2026-12-04", "amount": "300.00"}, "2": {"intent": "paid"}}), or '' when it
-- offered none: a reply "1" is read as the option the borrower was shown. It
-- holds intents, dates and amounts, never a name or an address.
ALTER TABLE attempts ADD COLUMN menu TEXT NOT NULL DEFAULT '';
