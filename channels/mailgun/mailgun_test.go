package mailgun_test

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels/mailgun"
)

const testKey = "key-0123456789abcdef0123456789abcdef"

var testNow = time.Date(2026, 6, 1, 14, 30, 0, 0, time.UTC)

func sample() mailgun.Inbound {
	return mailgun.Inbound{
		Recipient: "replies+abc@reply.acme.example", Sender: "ana@example.com", From: "Ana <ana@example.com>",
		Subject: "Re: Reminder", BodyPlain: "stop\n> quoted", StrippedText: "stop", MessageID: "<m1@mail.example>",
	}.Signed(testKey, testNow, "tok-50-characters-of-randomness-0000000000000000000")
}

// TestVerify checks the signature and the timestamp's age.
func TestVerify(t *testing.T) {
	t.Parallel()
	good := sample()
	tests := []struct {
		name string
		mod  func(in *mailgun.Inbound)
		key  string
		now  time.Time
		want error
	}{
		{name: "as signed", key: testKey, now: testNow},
		{name: "a little later", key: testKey, now: testNow.Add(14 * time.Minute)},
		{name: "another key", key: testKey + "x", now: testNow, want: mailgun.ErrSignature},
		{name: "no key configured", key: "", now: testNow, want: mailgun.ErrSignature},
		{name: "token changed", mod: func(in *mailgun.Inbound) { in.Token += "x" }, key: testKey, now: testNow, want: mailgun.ErrSignature},
		{name: "timestamp changed", mod: func(in *mailgun.Inbound) { in.Timestamp += "0" }, key: testKey, now: testNow, want: mailgun.ErrSignature},
		{name: "no signature", mod: func(in *mailgun.Inbound) { in.Signature = "" }, key: testKey, now: testNow, want: mailgun.ErrSignature},
		{name: "signature not hex", mod: func(in *mailgun.Inbound) { in.Signature = "zz" + in.Signature[2:] }, key: testKey, now: testNow, want: mailgun.ErrSignature},
		{name: "replayed an hour later", key: testKey, now: testNow.Add(time.Hour), want: mailgun.ErrStale},
		{name: "from the future", key: testKey, now: testNow.Add(-time.Hour), want: mailgun.ErrStale},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := good
			if tc.mod != nil {
				tc.mod(&in)
			}
			err := in.Verify(tc.key, tc.now, 0)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// TestReadInbound reads both forms a route posts; a multipart one's
// attachments are skipped, and its fields are bounded.
func TestReadInbound(t *testing.T) {
	t.Parallel()
	want := sample()
	t.Run("urlencoded", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(want.Values().Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		got, err := mailgun.ReadInbound(r)
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.NoError(t, got.Verify(testKey, testNow, 0))
	})
	t.Run("multipart with an attachment", func(t *testing.T) {
		t.Parallel()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for name, vs := range want.Values() {
			require.NoError(t, mw.WriteField(name, vs[0]))
		}
		fw, err := mw.CreateFormFile("attachment-1", "receipt.jpg")
		require.NoError(t, err)
		_, err = fw.Write(bytes.Repeat([]byte{0xff}, 3*mailgun.MaxFieldBytes))
		require.NoError(t, err)
		require.NoError(t, mw.WriteField("attachment-count", "1"))
		require.NoError(t, mw.Close())
		r := httptest.NewRequest(http.MethodPost, "/", &body)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		got, err := mailgun.ReadInbound(r)
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
	t.Run("a field too large", func(t *testing.T) {
		t.Parallel()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		require.NoError(t, mw.WriteField("body-plain", strings.Repeat("a", mailgun.MaxFieldBytes+1)))
		require.NoError(t, mw.Close())
		r := httptest.NewRequest(http.MethodPost, "/", &body)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		_, err := mailgun.ReadInbound(r)
		require.ErrorIs(t, err, mailgun.ErrFieldTooLarge)
	})
	t.Run("not a form", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"recipient":"x"}`))
		r.Header.Set("Content-Type", "application/json")
		_, err := mailgun.ReadInbound(r)
		require.ErrorIs(t, err, mailgun.ErrForm)
	})
	t.Run("a bounded body", func(t *testing.T) {
		t.Parallel()
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(want.Values().Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Body = http.MaxBytesReader(w, r.Body, 100)
		_, err := mailgun.ReadInbound(r)
		var mbe *http.MaxBytesError
		require.True(t, errors.As(err, &mbe), "the caller sees the bound: %v", err)
	})
}
