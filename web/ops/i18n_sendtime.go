package ops

// The account page's send-time section in Spanish and Chinese, kept beside
// the section and merged into the catalogues (see i18n.go).
func init() {
	for k, v := range map[string]string{
		"Send time":            "Hora de envío",
		"Evidence per hour":    "Evidencia por hora",
		"Hour":                 "Hora",
		"Own successes/trials": "Éxitos/intentos propios",
		"Similar borrowers":    "Prestatarios similares",
		"Posterior mean":       "Media a posteriori",
		"Sampled":              "Muestra",
		"chosen":               "elegida",
		"best estimate":        "mejor estimación",
		"No hour of today is left in the window.":                                                                            "No queda ninguna hora de hoy dentro de la ventana.",
		"Chosen: %s (hour %02d in %s); best estimate hour %02d.":                                                             "Elegida: %s (hora %02d en %s); hora de mejor estimación %02d.",
		"No active cadence covers this account, so no send time is chosen for it.":                                           "Ninguna cadencia activa cubre esta cuenta, así que no se elige una hora de envío para ella.",
		"Send-time optimisation is on for this lender: each step's message goes at the hour chosen below for its day.":       "La optimización de la hora de envío está activada para este prestamista: el mensaje de cada paso sale a la hora elegida abajo para su día.",
		"Send-time optimisation is off for this lender: steps keep their own times. This is the hour it would choose today.": "La optimización de la hora de envío está desactivada para este prestamista: los pasos conservan sus horas. Esta es la hora que elegiría hoy.",
	} {
		catalogueES[k] = v
	}
	for k, v := range map[string]string{
		"Send time":            "发送时间",
		"Evidence per hour":    "每小时的依据",
		"Hour":                 "小时",
		"Own successes/trials": "本人成功/尝试",
		"Similar borrowers":    "相似借款人",
		"Posterior mean":       "后验均值",
		"Sampled":              "抽样值",
		"chosen":               "已选",
		"best estimate":        "最佳估计",
		"No hour of today is left in the window.":                                                                            "今天的允许时段内已没有剩余的小时。",
		"Chosen: %s (hour %02d in %s); best estimate hour %02d.":                                                             "已选：%s（%02d 时，时区 %s）；最佳估计为 %02d 时。",
		"No active cadence covers this account, so no send time is chosen for it.":                                           "没有启用的节奏覆盖此账户，因此不为其选择发送时间。",
		"Send-time optimisation is on for this lender: each step's message goes at the hour chosen below for its day.":       "此贷方已开启发送时间优化：每个步骤的消息在下方为当天选定的小时发送。",
		"Send-time optimisation is off for this lender: steps keep their own times. This is the hour it would choose today.": "此贷方未开启发送时间优化：各步骤保持自己的时间。这是它今天会选择的小时。",
	} {
		catalogueZH[k] = v
	}
}
