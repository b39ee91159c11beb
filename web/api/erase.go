package api

import (
	"net/http"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// PersonalDataPath is the route that erases a borrower's personal data.
const PersonalDataPath = "/v1/accounts/{id}/personal-data"

// erasureJSON is the answer to an erasure.
type erasureJSON struct {
	AccountID string        `json:"account_id"`
	Status    string        `json:"status"`
	Canceled  int           `json:"canceled"`
	Erased    store.Erasure `json:"erased"`
}

// erasePersonalData erases the borrower's personal data from the account:
// what is still queued is canceled (and its tasks deleted; Asynq task
// payloads hold only reminder ids, so Redis keeps nothing personal), then
// the store, in one transaction (store.DB.ErasePersonalDataBy), blanks the
// name, postal address and hold reasons, replaces contact addresses with
// placeholders, blanks attempts' addresses and sent texts, replies' senders
// and texts, scrubs the events and audit entries that are about the account
// or mention its addresses, hashes or name (including those that carry no
// account id, such as opt-outs recorded by address), keeps the opt-outs by
// their keyed hash so they are still honoured, revokes the borrower's link
// tokens, closes the account, and appends the audit entry (action
// store.AuditErasePersonalData, the key id as actor, counts only). Erasing
// twice answers 200 again and changes nothing more.
func (a *API) erasePersonalData(c *call) error {
	acct, err := a.account(c)
	if err != nil {
		return err
	}
	now := a.now()
	lender := c.lender()
	out := erasureJSON{AccountID: acct.ID, Status: string(nudge.StatusClosed)}
	if out.Canceled, err = dispatcher.CancelAccount(c.ctx, a.Store, a.Tasks, lender, acct.ID, nudge.ReasonAccountClosed, now); err != nil {
		return err
	}
	if out.Erased, err = a.Store.ErasePersonalDataBy(c.ctx, lender, acct.ID, c.key.ID, now); err != nil {
		return err
	}
	a.logger().Info("personal data erased", "lender", lender, "account", acct.ID, "key", c.key.ID, "canceled", out.Canceled)
	web.WriteJSON(c.w, http.StatusOK, out)
	return nil
}
