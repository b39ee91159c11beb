package ops

// The experiments page in Spanish and Chinese, kept beside the page and
// merged into the catalogues (see i18n.go).
func init() {
	for k, v := range map[string]string{
		"Experiments":            "Experimentos",
		"Arm":                    "Brazo",
		"Interval (95%)":         "Intervalo (95%)",
		"champion":               "campeón",
		"Promote":                "Promover",
		"from":                   "desde",
		"to":                     "hasta",
		"running":                "en curso",
		"%s is better (p < %g).": "%s es mejor (p < %g).",
		"Not decided: every arm needs %d in the primary metric's denominator.": "Sin decidir: cada brazo necesita %d en el denominador de la métrica principal.",
		"No arm is better so far (p ≥ 0.05).":                                  "Ningún brazo es mejor por ahora (p ≥ 0,05).",
		"No active cadence declares an experiment.":                            "Ninguna cadencia activa declara un experimento.",
		"Arm %s is now cadence %s version %d.":                                 "El brazo %s es ahora la cadencia %s versión %d.",
		"promotion is not available here":                                      "la promoción no está disponible aquí",
		"the %s role may look at experiments but not promote an arm":           "el rol %s puede ver los experimentos pero no promover un brazo",
		"the promotion was refused: %v":                                        "se rechazó la promoción: %v",
		"Each experiment of the active cadences: per arm, the primary metric with its Wilson interval (95%), and a two-proportion z-test of each challenger against the champion (the first arm). An arm is named better only when p < 0.05 and every arm has the stop rule's sample.": "Cada experimento de las cadencias activas: por brazo, la métrica principal con su intervalo de Wilson (95%), y una prueba z de dos proporciones de cada aspirante frente al campeón (el primer brazo). Un brazo se declara mejor solo cuando p < 0,05 y cada brazo tiene la muestra de la regla de parada.",
	} {
		catalogueES[k] = v
	}
	for k, v := range map[string]string{
		"Experiments":            "实验",
		"Arm":                    "分组",
		"Interval (95%)":         "区间 (95%)",
		"champion":               "冠军",
		"Promote":                "推广",
		"from":                   "自",
		"to":                     "至",
		"running":                "进行中",
		"%s is better (p < %g).": "%s 更好（p < %g）。",
		"Not decided: every arm needs %d in the primary metric's denominator.": "尚无结论：每个分组在主要指标的分母中需要 %d。",
		"No arm is better so far (p ≥ 0.05).":                                  "目前没有更好的分组（p ≥ 0.05）。",
		"No active cadence declares an experiment.":                            "没有启用的节奏声明实验。",
		"Arm %s is now cadence %s version %d.":                                 "分组 %s 现为节奏 %s 第 %d 版。",
		"promotion is not available here":                                      "此处不能推广",
		"the %s role may look at experiments but not promote an arm":           "%s 角色可以查看实验，但不能推广分组",
		"the promotion was refused: %v":                                        "推广被拒绝：%v",
		"Each experiment of the active cadences: per arm, the primary metric with its Wilson interval (95%), and a two-proportion z-test of each challenger against the champion (the first arm). An arm is named better only when p < 0.05 and every arm has the stop rule's sample.": "启用节奏中的每个实验：每个分组的主要指标及其 Wilson 区间 (95%)，以及每个挑战者与冠军（第一个分组）的双比例 z 检验。只有当 p < 0.05 且每个分组都达到停止规则的样本量时，才判定某分组更好。",
	} {
		catalogueZH[k] = v
	}
}
