package templates_test

import (
	"fmt"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/templates"
)

func ExamplePack_Render() {
	acct := nudge.Account{
		Borrower:  nudge.Borrower{Name: "Ana Ruiz", Language: "es-MX"},
		Address:   &nudge.Address{Country: "US"},
		Currency:  "USD",
		AmountDue: "289.00",
		DueDate:   nudge.MustDate("2026-06-01"),
	}
	d := templates.DataFor(acct, "Acme Auto", nudge.MustDate("2026-06-04"))
	d.Link = "https://pay.example.com/a/x1"

	r, err := templates.Default().Render("late_sms", nudge.SMS, templates.Locales(acct.Borrower.Language, "en"), d)
	if err != nil {
		fmt.Println(err)
		return
	}
	// As written (días, pagó) the text is UCS-2 and needs 4 segments, over
	// the budget of 2: the default pack transliterates Spanish, and it
	// needs 2 with its menu, which the caller stores with the message.
	fmt.Println(r.Locale, r.Segments, r.Encoding, "budget", r.Budget, "transliterated", r.Transliterated)
	fmt.Println(r.Text)
	for _, k := range r.Menu.Keys() {
		fmt.Println(k, r.Menu[k].Intent, r.Menu[k].Date, r.Menu[k].Amount)
	}
	// Output:
	// es 2 GSM-7 budget 2 transliterated true
	// Acme Auto: Ana Ruiz, su pago de $289.00 tiene 3 dias de atraso. Estamos para ayudarle: https://pay.example.com/a/x1 Responda 1 para pagar $289.00 el jue 11/06, 2 si ya pago. Responde ALTO para cancelar.
	// 1 promise 2026-06-11 289.00
	// 2 paid
}

func ExampleTransliterate() {
	fmt.Println(templates.Transliterate("María José García-Núñez: “pagaré” – ¿mañana?"))
	fmt.Println(templates.Transliterate("王伟 García"))
	// Output:
	// Maria José Garcia-Nuñez: "pagaré" - ¿mañana? true
	// 王伟 García false
}

func ExampleCountSegments() {
	fmt.Println(templates.CountSegments("Your payment of $412.50 is due June 1, 2026. Reply STOP to opt out."))
	fmt.Println(templates.CountSegments("您的还款将于2026年6月1日到期。回复TD退订"))
	// Output:
	// 1 GSM-7 67
	// 1 UCS-2 24
}
