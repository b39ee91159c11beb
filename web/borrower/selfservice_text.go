package borrower

// ssText is the wording of the self-service page in one language. Fields
// documented as formats take the arguments named beside them, in order.
type ssText struct {
	Title          string // lender name
	AmountDue      string
	DueDate        string
	PromiseActive  string // amount, date
	PromiseTitle   string
	PromiseIntro   string
	DateLabel      string
	DateHint       string // first date, last date
	AmountLabel    string // currency code
	AmountHint     string // largest amount
	PromiseButton  string
	PaidTitle      string
	PaidIntro      string
	PaidButton     string
	StopTitle      string
	StopIntro      string
	StopSMS        string // masked number
	StopVoice      string // masked number
	StopEmail      string // masked address
	StopDone       string
	StopButton     string
	Help           string // phone number
	ErrDate        string
	ErrDateRange   string // first date, last date
	ErrAmount      string // example amount
	ErrAmountRange string // largest amount
	ErrStopNone    string
	ErrorsTitle    string
	DonePromise    string // amount, date
	DonePaid       string
	DoneStop       string
	Closed         string
	InvalidTitle   string
	Invalid        string
	ExpiredTitle   string
	Expired        string
	ForbiddenTitle string
	Forbidden      string
	ErrorTitle     string
	Error          string
}

// ssTexts holds the page's wording by locale (every entry of unsubLocales:
// the page speaks the same languages as the unsubscribe page).
var ssTexts = map[string]ssText{
	"en": {
		Title:          "Your account with %s",
		AmountDue:      "Amount due",
		DueDate:        "Due date",
		PromiseActive:  "You promised to pay %s by %s.",
		PromiseTitle:   "Promise to pay",
		PromiseIntro:   "Tell us when you will pay. We will not send reminders before that date.",
		DateLabel:      "Date you will pay",
		DateHint:       "Choose a date from %s to %s.",
		AmountLabel:    "Amount (%s)",
		AmountHint:     "Any amount above zero, up to %s.",
		PromiseButton:  "Promise to pay",
		PaidTitle:      "Already paid?",
		PaidIntro:      "Tell us and we will pause reminders while we check your payment.",
		PaidButton:     "I already paid",
		StopTitle:      "Stop reminders",
		StopIntro:      "Choose how we should no longer contact you. This does not change your account or the amount you owe.",
		StopSMS:        "Text messages to %s",
		StopVoice:      "Calls to %s",
		StopEmail:      "Emails to %s",
		StopDone:       "stopped",
		StopButton:     "Stop these reminders",
		Help:           "Questions? Call %s.",
		ErrDate:        "Enter the date you will pay.",
		ErrDateRange:   "Choose a date from %s to %s.",
		ErrAmount:      "Enter an amount like %s.",
		ErrAmountRange: "Enter an amount above zero and no more than %s.",
		ErrStopNone:    "Choose at least one way to stop.",
		ErrorsTitle:    "Please check the form.",
		DonePromise:    "Thank you. We recorded your promise to pay %s by %s. We will not send reminders before then.",
		DonePaid:       "Thank you. We will check your payment and pause reminders until then.",
		DoneStop:       "Done. We will no longer contact you this way.",
		Closed:         "There is nothing to pay on this account right now.",
		InvalidTitle:   "This link does not work",
		Invalid:        "The link is incomplete or has been changed. Open it again from the message, making sure you use the whole link.",
		ExpiredTitle:   "This link has expired",
		Expired:        "For your security, links work for a limited time. Use the link in our latest message, or call us.",
		ForbiddenTitle: "Please try again",
		Forbidden:      "This form is out of date, so nothing was changed. Open the link again and repeat your choice.",
		ErrorTitle:     "Something went wrong",
		Error:          "We could not record your request. Please try again in a few minutes.",
	},
	"es": {
		Title:          "Su cuenta con %s",
		AmountDue:      "Monto a pagar",
		DueDate:        "Fecha de vencimiento",
		PromiseActive:  "Usted prometió pagar %s a más tardar el %s.",
		PromiseTitle:   "Prometer un pago",
		PromiseIntro:   "Díganos cuándo pagará. No le enviaremos recordatorios antes de esa fecha.",
		DateLabel:      "Fecha en que pagará",
		DateHint:       "Elija una fecha entre el %s y el %s.",
		AmountLabel:    "Monto (%s)",
		AmountHint:     "Cualquier monto mayor que cero, hasta %s.",
		PromiseButton:  "Prometer el pago",
		PaidTitle:      "¿Ya pagó?",
		PaidIntro:      "Avísenos y pausaremos los recordatorios mientras verificamos su pago.",
		PaidButton:     "Ya pagué",
		StopTitle:      "Detener recordatorios",
		StopIntro:      "Elija cómo no quiere que le contactemos. Esto no cambia su cuenta ni el monto que debe.",
		StopSMS:        "Mensajes de texto a %s",
		StopVoice:      "Llamadas a %s",
		StopEmail:      "Correos a %s",
		StopDone:       "detenido",
		StopButton:     "Detener estos recordatorios",
		Help:           "¿Preguntas? Llame al %s.",
		ErrDate:        "Indique la fecha en que pagará.",
		ErrDateRange:   "Elija una fecha entre el %s y el %s.",
		ErrAmount:      "Indique un monto como %s.",
		ErrAmountRange: "Indique un monto mayor que cero y no mayor que %s.",
		ErrStopNone:    "Elija al menos una forma de contacto para detener.",
		ErrorsTitle:    "Revise el formulario.",
		DonePromise:    "Gracias. Registramos su promesa de pagar %s a más tardar el %s. No le enviaremos recordatorios antes de esa fecha.",
		DonePaid:       "Gracias. Verificaremos su pago y pausaremos los recordatorios mientras tanto.",
		DoneStop:       "Listo. Ya no le contactaremos de esta forma.",
		Closed:         "No hay nada que pagar en esta cuenta por ahora.",
		InvalidTitle:   "Este enlace no funciona",
		Invalid:        "El enlace está incompleto o fue modificado. Ábralo de nuevo desde el mensaje y asegúrese de usar el enlace completo.",
		ExpiredTitle:   "Este enlace ha vencido",
		Expired:        "Por su seguridad, los enlaces funcionan por tiempo limitado. Use el enlace de nuestro mensaje más reciente o llámenos.",
		ForbiddenTitle: "Inténtelo de nuevo",
		Forbidden:      "Este formulario ya no es válido, así que no se cambió nada. Abra el enlace de nuevo y repita su elección.",
		ErrorTitle:     "Algo salió mal",
		Error:          "No pudimos registrar su solicitud. Inténtelo de nuevo en unos minutos.",
	},
	"zh-CN": {
		Title:          "您在%s的账户",
		AmountDue:      "应还金额",
		DueDate:        "到期日",
		PromiseActive:  "您已承诺在%[2]s前还款%[1]s。",
		PromiseTitle:   "承诺还款",
		PromiseIntro:   "请告诉我们您的还款日期。在该日期之前我们不会再发送提醒。",
		DateLabel:      "还款日期",
		DateHint:       "请选择%s至%s之间的日期。",
		AmountLabel:    "金额（%s）",
		AmountHint:     "大于零且不超过%s的任意金额。",
		PromiseButton:  "承诺还款",
		PaidTitle:      "已经还款？",
		PaidIntro:      "告诉我们，我们会在核实您的还款期间暂停提醒。",
		PaidButton:     "我已还款",
		StopTitle:      "停止提醒",
		StopIntro:      "请选择不再联系您的方式。这不会改变您的账户或欠款金额。",
		StopSMS:        "发送至%s的短信",
		StopVoice:      "拨打%s的电话",
		StopEmail:      "发送至%s的邮件",
		StopDone:       "已停止",
		StopButton:     "停止这些提醒",
		Help:           "如有疑问，请致电%s。",
		ErrDate:        "请输入您的还款日期。",
		ErrDateRange:   "请选择%s至%s之间的日期。",
		ErrAmount:      "请输入金额，例如%s。",
		ErrAmountRange: "请输入大于零且不超过%s的金额。",
		ErrStopNone:    "请至少选择一种要停止的方式。",
		ErrorsTitle:    "请检查表单。",
		DonePromise:    "谢谢。我们已记录您在%[2]s前还款%[1]s的承诺，在此之前不会再发送提醒。",
		DonePaid:       "谢谢。我们会核实您的还款，在此期间暂停提醒。",
		DoneStop:       "已完成。我们将不再通过这种方式联系您。",
		Closed:         "此账户目前没有需要还款的金额。",
		InvalidTitle:   "此链接无效",
		Invalid:        "链接不完整或已被修改。请从消息中重新打开，并确保使用完整的链接。",
		ExpiredTitle:   "此链接已过期",
		Expired:        "为了您的安全，链接仅在有限时间内有效。请使用我们最新消息中的链接，或致电我们。",
		ForbiddenTitle: "请重试",
		Forbidden:      "此表单已失效，因此未做任何更改。请重新打开链接并再次选择。",
		ErrorTitle:     "出错了",
		Error:          "我们未能记录您的请求，请几分钟后重试。",
	},
}
