package borrower

// ssPayText is the wording of the self-service page's payment parts (the
// pay button, payment plans and what a return visit shows) in one language.
// Fields documented as formats take the arguments named beside them, in
// order.
type ssPayText struct {
	PayButton      string
	PayNote        string // lender name
	PlanTitle      string
	PlanIntro      string // days between payments
	PlanCountLabel string
	PlanOption     string // count, amount of each
	PlanFirstLabel string
	PlanFirstHint  string // first date, last date
	PlanPreview    string
	PlanYours      string
	PlanConfirm    string
	PlanDate       string
	PlanAmount     string
	PlanStatus     string
	PlanNumber     string // instalment number
	StatusKept     string
	StatusDue      string
	StatusBroken   string
	StatusCanceled string
	PlanActive     string
	PlanBroken     string
	DonePlan       string // count
	Checking       string
	ErrPlanCount   string
	ErrPlanFirst   string // first date, last date
	ErrPlanHorizon string // count, last date
	ErrPlanMinimum string // smallest payment
	ErrPlanNone    string
}

// ssPayTexts holds the payment wording by locale (every entry of unsubLocales).
var ssPayTexts = map[string]ssPayText{
	"en": {
		PayButton:      "Pay now",
		PayNote:        "You will go to the secure payment page of %s.",
		PlanTitle:      "Pay in instalments",
		PlanIntro:      "Split the amount due into smaller payments, %d days apart. You see the dates and amounts before you confirm.",
		PlanCountLabel: "Number of payments",
		PlanOption:     "%d payments of about %s",
		PlanFirstLabel: "Date of the first payment",
		PlanFirstHint:  "Choose a date from %s to %s.",
		PlanPreview:    "See the plan",
		PlanYours:      "Your plan",
		PlanConfirm:    "Confirm this plan",
		PlanDate:       "Date",
		PlanAmount:     "Amount",
		PlanStatus:     "Status",
		PlanNumber:     "Payment %d",
		StatusKept:     "Paid",
		StatusDue:      "Due",
		StatusBroken:   "Missed",
		StatusCanceled: "Canceled",
		PlanActive:     "You have a payment plan. We will not send reminders before each payment date.",
		PlanBroken:     "A payment of your plan was missed. You can pay now, or choose a new plan or date below.",
		DonePlan:       "Thank you. Your plan of %d payments is set. We will not send reminders before each payment date.",
		Checking:       "Thank you for telling us you paid. We are checking your payment and will not send reminders while we do.",
		ErrPlanCount:   "Choose the number of payments.",
		ErrPlanFirst:   "Choose a first payment date from %s to %s.",
		ErrPlanHorizon: "With %d payments the last one would be after %s. Choose an earlier first date or fewer payments.",
		ErrPlanMinimum: "Each payment must be at least %s. Choose fewer payments.",
		ErrPlanNone:    "A payment plan is not available for this account now. Please call us.",
	},
	"es": {
		PayButton:      "Pagar ahora",
		PayNote:        "Irá a la página de pago segura de %s.",
		PlanTitle:      "Pagar en cuotas",
		PlanIntro:      "Divida el monto a pagar en pagos más pequeños, cada %d días. Verá las fechas y los montos antes de confirmar.",
		PlanCountLabel: "Número de pagos",
		PlanOption:     "%d pagos de unos %s",
		PlanFirstLabel: "Fecha del primer pago",
		PlanFirstHint:  "Elija una fecha entre el %s y el %s.",
		PlanPreview:    "Ver el plan",
		PlanYours:      "Su plan",
		PlanConfirm:    "Confirmar este plan",
		PlanDate:       "Fecha",
		PlanAmount:     "Monto",
		PlanStatus:     "Estado",
		PlanNumber:     "Pago %d",
		StatusKept:     "Pagado",
		StatusDue:      "Pendiente",
		StatusBroken:   "No pagado",
		StatusCanceled: "Cancelado",
		PlanActive:     "Tiene un plan de pagos. No le enviaremos recordatorios antes de cada fecha de pago.",
		PlanBroken:     "No se recibió un pago de su plan. Puede pagar ahora o elegir un nuevo plan o una fecha abajo.",
		DonePlan:       "Gracias. Su plan de %d pagos quedó registrado. No le enviaremos recordatorios antes de cada fecha de pago.",
		Checking:       "Gracias por avisarnos que pagó. Estamos verificando su pago y no le enviaremos recordatorios mientras tanto.",
		ErrPlanCount:   "Elija el número de pagos.",
		ErrPlanFirst:   "Elija una fecha del primer pago entre el %s y el %s.",
		ErrPlanHorizon: "Con %d pagos, el último sería después del %s. Elija una fecha anterior para el primer pago o menos pagos.",
		ErrPlanMinimum: "Cada pago debe ser de al menos %s. Elija menos pagos.",
		ErrPlanNone:    "Un plan de pagos no está disponible para esta cuenta ahora. Llámenos, por favor.",
	},
	"zh-CN": {
		PayButton:      "立即还款",
		PayNote:        "您将前往%s的安全支付页面。",
		PlanTitle:      "分期还款",
		PlanIntro:      "将应还金额分成几笔较小的还款，每%d天一笔。确认前您会看到每笔的日期和金额。",
		PlanCountLabel: "还款期数",
		PlanOption:     "分%d期，每期约%s",
		PlanFirstLabel: "首期还款日期",
		PlanFirstHint:  "请选择%s至%s之间的日期。",
		PlanPreview:    "查看方案",
		PlanYours:      "您的方案",
		PlanConfirm:    "确认此方案",
		PlanDate:       "日期",
		PlanAmount:     "金额",
		PlanStatus:     "状态",
		PlanNumber:     "第%d期",
		StatusKept:     "已还",
		StatusDue:      "待还",
		StatusBroken:   "逾期未还",
		StatusCanceled: "已取消",
		PlanActive:     "您已有分期还款方案。在每期还款日期之前我们不会发送提醒。",
		PlanBroken:     "您的方案中有一期未按时还款。您可以立即还款，或在下方选择新的方案或日期。",
		DonePlan:       "谢谢。您的%d期还款方案已确认。在每期还款日期之前我们不会发送提醒。",
		Checking:       "感谢您告知已还款。我们正在核实您的还款，在此期间不会发送提醒。",
		ErrPlanCount:   "请选择还款期数。",
		ErrPlanFirst:   "请选择%s至%s之间的首期还款日期。",
		ErrPlanHorizon: "分%d期时最后一期将晚于%s。请选择更早的首期日期或更少的期数。",
		ErrPlanMinimum: "每期还款至少为%s。请选择更少的期数。",
		ErrPlanNone:    "此账户目前无法办理分期还款，请致电我们。",
	},
}
