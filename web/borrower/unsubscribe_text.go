package borrower

// unsubText is the wording of the unsubscribe page in one language.
// Question and Done are printf formats taking the lender's name and the
// (masked) address, in that order.
type unsubText struct {
	Title        string
	Question     string
	Note         string
	Button       string
	DoneTitle    string
	Done         string
	DoneNote     string
	InvalidTitle string
	Invalid      string
	NeedsButton  string
	ErrorTitle   string
	Error        string
}

// unsubLocales lists the languages of the unsubscribe page; the first is the fallback.
var unsubLocales = []string{"en", "es", "zh-CN"}

// unsubTexts holds the page's wording by locale (every entry of unsubLocales).
var unsubTexts = map[string]unsubText{
	"en": {
		Title:        "Unsubscribe from email reminders",
		Question:     "Stop email reminders from %s to %s?",
		Note:         "This stops reminder emails to this address only. It does not change your account or the amount you owe, and we may still contact you in other ways.",
		Button:       "Unsubscribe",
		DoneTitle:    "You are unsubscribed",
		Done:         "%s will no longer send email reminders to %s.",
		DoneNote:     "This does not change your account or the amount you owe.",
		InvalidTitle: "This link does not work",
		Invalid:      "The unsubscribe link is incomplete or has been changed. Open it again from the email, making sure you use the whole link.",
		NeedsButton:  "To unsubscribe, press the button below.",
		ErrorTitle:   "Something went wrong",
		Error:        "We could not record your request. Please try again in a few minutes.",
	},
	"es": {
		Title:        "Cancelar la suscripción a los recordatorios por correo",
		Question:     "¿Dejar de recibir recordatorios por correo de %s en %s?",
		Note:         "Esto solo detiene los correos de recordatorio a esta dirección. No cambia su cuenta ni el monto que debe, y es posible que sigamos contactándole por otros medios.",
		Button:       "Cancelar suscripción",
		DoneTitle:    "Su suscripción fue cancelada",
		Done:         "%s ya no enviará recordatorios por correo a %s.",
		DoneNote:     "Esto no cambia su cuenta ni el monto que debe.",
		InvalidTitle: "Este enlace no funciona",
		Invalid:      "El enlace para cancelar la suscripción está incompleto o fue modificado. Ábralo de nuevo desde el correo y asegúrese de usar el enlace completo.",
		NeedsButton:  "Para cancelar la suscripción, pulse el botón de abajo.",
		ErrorTitle:   "Algo salió mal",
		Error:        "No pudimos registrar su solicitud. Inténtelo de nuevo en unos minutos.",
	},
	"zh-CN": {
		Title:        "退订提醒邮件",
		Question:     "确定不再接收%s发送至%s的提醒邮件吗？",
		Note:         "此操作仅停止向该邮箱发送提醒邮件，不会改变您的账户或欠款金额，我们仍可能通过其他方式与您联系。",
		Button:       "退订",
		DoneTitle:    "您已成功退订",
		Done:         "%s将不再向%s发送提醒邮件。",
		DoneNote:     "此操作不会改变您的账户或欠款金额。",
		InvalidTitle: "此链接无效",
		Invalid:      "退订链接不完整或已被修改。请从邮件中重新打开，并确保使用完整的链接。",
		NeedsButton:  "如需退订，请点击下方按钮。",
		ErrorTitle:   "出错了",
		Error:        "我们未能记录您的请求，请几分钟后重试。",
	},
}
