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
	fmt.Println(r.Locale, r.Segments, r.Encoding)
	fmt.Println(r.Text)
	// Output:
	// es 4 UCS-2
	// Acme Auto: Hola, Ana Ruiz. No hemos recibido su pago de $289.00 que vencía el 1 de junio de 2026 (hace 3 días). Si tuvo algún imprevisto, estamos para ayudarle. Pague o vea sus opciones: https://pay.example.com/a/x1 Responde ALTO para cancelar.
}

func ExampleCountSegments() {
	fmt.Println(templates.CountSegments("Your payment of $412.50 is due June 1, 2026. Reply STOP to opt out."))
	fmt.Println(templates.CountSegments("您的还款将于2026年6月1日到期。回复TD退订"))
	// Output:
	// 1 GSM-7 67
	// 1 UCS-2 24
}
