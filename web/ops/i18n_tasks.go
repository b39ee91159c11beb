package ops

// The work items page in Spanish and Chinese, kept beside the page and
// merged into the catalogues (see i18n.go).
func init() {
	for k, v := range map[string]string{
		"Work items":      "Tareas",
		"Work item kinds": "Tipos de tarea",
		"Call list":       "Lista de llamadas",
		"Field visit":     "Visita de campo",
		"Legal review":    "Revisión legal",
		"Letter":          "Carta",
		"Instructions":    "Instrucciones",
		"Complete":        "Completar",
		"Promised amount": "Importe prometido",
		"Promised date":   "Fecha prometida",
		"open":            "abiertas",
		"Completed: the outcome is recorded and the item left the queue.": "Completada: el resultado quedó registrado y la tarea salió de la cola.",
		"No completed work item of this kind.":                            "No hay tareas completadas de este tipo.",
		"No work item of this kind is waiting.":                           "No hay tareas de este tipo pendientes.",
		"Reached the borrower":                                            "Se habló con el prestatario",
		"Promise to pay":                                                  "Promesa de pago",
		"No contact":                                                      "Sin contacto",
		"Refused":                                                         "Se negó",
		"Wrong party":                                                     "Persona equivocada",
		"Work the cadences' task steps hand to people, oldest first. Take one, do it, then complete it with the outcome: a promise pauses the cadence until its date; a wrong party stops contact on that number.": "El trabajo que los pasos de tarea de las cadencias asignan a personas, del más antiguo al más reciente. Tome una, hágala y complétela con el resultado: una promesa pausa la cadencia hasta su fecha; una persona equivocada detiene el contacto con ese número.",
		"kind: %q is not a work item kind":                          "kind: %q no es un tipo de tarea",
		"no such work item for this lender":                         "no existe esa tarea para este prestamista",
		"promise_amount: %q is not an amount like 120.50":           "promise_amount: %q no es un importe como 120.50",
		"promise_date: %q is not a date like 2026-06-30":            "promise_date: %q no es una fecha como 2026-06-30",
		"the %s role may read the work items but not work them":     "el rol %s puede leer las tareas pero no trabajarlas",
		"this work item was already completed with another outcome": "esta tarea ya se completó con otro resultado",
		"work items are not kept by this deployment":                "esta instalación no guarda tareas",
		"the completion is not valid: %s":                           "la finalización no es válida: %s",
	} {
		catalogueES[k] = v
	}
	for k, v := range map[string]string{
		"Work items":      "人工任务",
		"Work item kinds": "任务类型",
		"Call list":       "外呼名单",
		"Field visit":     "上门拜访",
		"Legal review":    "法务审核",
		"Letter":          "信函",
		"Instructions":    "说明",
		"Complete":        "完成",
		"Promised amount": "承诺金额",
		"Promised date":   "承诺日期",
		"open":            "待处理",
		"Completed: the outcome is recorded and the item left the queue.": "已完成：结果已记录，任务已移出队列。",
		"No completed work item of this kind.":                            "没有此类型的已完成任务。",
		"No work item of this kind is waiting.":                           "没有此类型的待处理任务。",
		"Reached the borrower":                                            "已联系到借款人",
		"Promise to pay":                                                  "承诺还款",
		"No contact":                                                      "未联系上",
		"Refused":                                                         "拒绝",
		"Wrong party":                                                     "非本人",
		"Work the cadences' task steps hand to people, oldest first. Take one, do it, then complete it with the outcome: a promise pauses the cadence until its date; a wrong party stops contact on that number.": "催收节奏中交给人工处理的任务，按时间先后排列。领取一项、完成后填写结果：承诺还款会暂停节奏直到承诺日期；非本人会停止联系该号码。",
		"kind: %q is not a work item kind":                          "kind：%q 不是任务类型",
		"no such work item for this lender":                         "该贷款机构没有此任务",
		"promise_amount: %q is not an amount like 120.50":           "promise_amount：%q 不是类似 120.50 的金额",
		"promise_date: %q is not a date like 2026-06-30":            "promise_date：%q 不是类似 2026-06-30 的日期",
		"the %s role may read the work items but not work them":     "%s 角色可以查看任务，但不能处理",
		"this work item was already completed with another outcome": "此任务已以其他结果完成",
		"work items are not kept by this deployment":                "本部署不保存人工任务",
		"the completion is not valid: %s":                           "完成信息无效：%s",
	} {
		catalogueZH[k] = v
	}
}
