package web

// Paths of the route families the server's Limits tell apart. The products
// (web/api, web/ops, web/borrower, web/webhooks) serve under them; they are
// here because the server classifies a request before any product sees it.
// The borrower pages' paths are dispatcher.SelfServicePath and
// dispatcher.UnsubscribePath, which the renderer builds links with.
const (
	// OpsPath is where the operator dashboard is served.
	OpsPath = "/ops"
	// OpsQueuesPath is where asynqmon is mounted, behind the dashboard login.
	OpsQueuesPath = OpsPath + "/queues"
	// WebhooksPrefix starts the path of every provider webhook.
	WebhooksPrefix = "/webhooks/"
	// TwilioWebhooksPrefix starts the path of every Twilio webhook
	// (channels/twilio's StatusCallbackPath, InboundPath, VoicePathPrefix).
	TwilioWebhooksPrefix = WebhooksPrefix + "twilio/"
	// MailgunWebhooksPrefix starts the path of Mailgun's inbound routes
	// (webhooks.MailgunInboundPath).
	MailgunWebhooksPrefix = WebhooksPrefix + "mailgun/"
)

// Default body limits of the route families (see BodyLimits). The products
// bound their own reads with the same sizes.
const (
	// DefaultMaxBodyBytes is the largest request body of a lender API route
	// other than the account import.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxImportBytes is the largest account import body.
	DefaultMaxImportBytes = 64 << 20
	// MaxWebhookBody is the largest webhook body accepted, in bytes.
	MaxWebhookBody = 64 << 10
	// MaxSelfServiceBody is the largest self-service POST body accepted, in bytes.
	MaxSelfServiceBody = 16 << 10
	// MaxUnsubscribeBody is the largest unsubscribe POST body accepted, in bytes.
	MaxUnsubscribeBody = 16 << 10
	// MaxOpsLoginBody bounds the operator console's login and logout form
	// bodies, in bytes.
	MaxOpsLoginBody = 8 << 10
)
