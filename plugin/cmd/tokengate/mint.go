package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokengate/tokengate/plugin/token"
)

// The kinds `mint` knows, with the provider type that verifies each.
var mintKinds = [][2]string{
	{"api-key", "api_key"},
	{"rolling-code", "rolling_code (mode hmac)"},
	{"m2m-code", "rolling_code (mode m2m_token)"},
	{"scoped-token", "scoped_token"},
	{"jwt", "jwt"},
	{"authnzerver-key", "authnzerver_key"},
	{"signed-payload", "signed_payload"},
	{"http-signature", "http_signature"},
}

// mintCommon are the flags every mint subcommand has.
type mintCommon struct {
	at  string
	raw bool
}

func (m *mintCommon) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&m.at, "at", "", "mint for this instant (RFC 3339 or unix seconds) instead of now")
	cmd.Flags().BoolVar(&m.raw, "raw", false, "print only the credential value, not header lines")
}

func (m *mintCommon) now() (time.Time, error) {
	return parseInstant(m.at)
}

// parseInstant reads "" (now), RFC 3339, or unix seconds.
func parseInstant(s string) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q: want RFC 3339 or unix seconds", s)
	}
	return t, nil
}

// print writes headers as "Name: value" lines, or with --raw the value of
// the last header (the credential itself).
func (m *mintCommon) print(w io.Writer, headers [][2]string) {
	if m.raw {
		v := headers[len(headers)-1][1]
		if i := strings.IndexByte(v, ' '); i > 0 && strings.EqualFold(headers[len(headers)-1][0], "authorization") {
			v = v[i+1:]
		}
		fmt.Fprintln(w, v)
		return
	}
	for _, h := range headers {
		fmt.Fprintf(w, "%s: %s\n", h[0], h[1])
	}
}

func newMint() *cobra.Command {
	var list strings.Builder
	for _, k := range mintKinds {
		fmt.Fprintf(&list, "  %-16s verified by %s\n", k[0], k[1])
	}
	cmd := &cobra.Command{
		Use:   "mint <kind>",
		Short: "Print a fresh credential, as the headers to send",
		Long: "mint prints a credential as the header lines a client sends (--raw: the value alone).\n" +
			"Time-based credentials are minted for now (--at to choose the instant).\n\nKinds:\n" + list.String() +
			"\nsession and introspection tokens are opaque and issued by their services, so there is nothing to mint;\n" +
			"ip_rule checks the client address.",
		Example: `  tokengate mint rolling-code --seed env:BILLING_SEED --client billing
  tokengate mint jwt --key bot.key --username bot
  tokengate mint http-signature --secret env:PARTNER_HMAC --keyid partner -X POST -d '{"n":1}' http://api.example.test/orders
  curl -H "$(tokengate mint api-key --key env:TOKENGATE_API_KEY)" http://localhost:10000/api`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(mintAPIKey(), mintRolling(), mintM2M(), mintScoped(), mintJWT(), mintAuthnz(), mintSigned(), mintHTTPSig())
	return cmd
}

func mintAPIKey() *cobra.Command {
	var m mintCommon
	var key, header string
	cmd := &cobra.Command{
		Use:     "api-key",
		Short:   "The header carrying an API key (make keys with `tokengate apikey new`)",
		Example: `  tokengate mint api-key --key env:TOKENGATE_API_KEY`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := readSecret("--key", key)
			if err != nil {
				return err
			}
			if header == "" {
				m.print(cmd.OutOrStdout(), [][2]string{{"Authorization", "ApiKey " + string(k)}})
			} else {
				m.print(cmd.OutOrStdout(), [][2]string{{header, string(k)}})
			}
			return nil
		},
	}
	m.add(cmd)
	cmd.Flags().StringVar(&key, "key", "", "the API key (literal, env:NAME or file:PATH)")
	cmd.Flags().StringVar(&header, "header", "", "send the bare key in this header instead of Authorization: ApiKey")
	return cmd
}

func mintRolling() *cobra.Command {
	var m mintCommon
	var c token.RollingConfig
	var seed, header, clientHeader, client string
	cmd := &cobra.Command{
		Use:   "rolling-code",
		Short: "A secure rolling code (RFC 6238, HMAC-SHA256) for a rolling_code provider in mode hmac",
		Long: `The code of the current window. Use the provider's ttl_seconds, alphabet and
length. The code changes every --ttl seconds.`,
		Example: `  tokengate mint rolling-code --seed env:BILLING_SEED --client billing`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := readSecret("--seed", seed)
			if err != nil {
				return err
			}
			now, err := m.now()
			if err != nil {
				return err
			}
			c.Seed = s
			code, err := token.RollingCode(c, now)
			if err != nil {
				return err
			}
			var h [][2]string
			if client != "" {
				h = append(h, [2]string{clientHeader, client})
			}
			m.print(cmd.OutOrStdout(), append(h, [2]string{header, code}))
			return nil
		},
	}
	m.add(cmd)
	cmd.Flags().StringVar(&seed, "seed", "", "the client's seed (literal, env:NAME or file:PATH)")
	cmd.Flags().IntVar(&c.TTL, "ttl", 30, "window length in seconds (ttl_seconds)")
	cmd.Flags().StringVar(&c.Alphabet, "alphabet", "", "code alphabet (default a-z A-Z 0-9)")
	cmd.Flags().IntVar(&c.Length, "length", 8, "code length")
	cmd.Flags().StringVar(&header, "header", "x-rolling-code", "header carrying the code")
	cmd.Flags().StringVar(&clientHeader, "client-header", "x-rolling-code-client", "header naming the client")
	cmd.Flags().StringVar(&client, "client", "", "client name (sent in --client-header when set)")
	return cmd
}

func mintM2M() *cobra.Command {
	var m mintCommon
	var c token.M2MConfig
	var seed, header, clientHeader, client string
	cmd := &cobra.Command{
		Use:     "m2m-code",
		Short:   "A Maskime/m2m_token code (weak; for rolling_code providers in mode m2m_token)",
		Example: `  tokengate mint m2m-code --seed env:REPORTER_SEED --client reporter --client-header x-client`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := readSecret("--seed", seed)
			if err != nil {
				return err
			}
			now, err := m.now()
			if err != nil {
				return err
			}
			c.Seed = string(s)
			code, err := token.M2MCode(c, now)
			if err != nil {
				return err
			}
			var h [][2]string
			if client != "" {
				h = append(h, [2]string{clientHeader, client})
			}
			m.print(cmd.OutOrStdout(), append(h, [2]string{header, code}))
			return nil
		},
	}
	m.add(cmd)
	cmd.Flags().StringVar(&seed, "seed", "", "the client's seed (literal, env:NAME or file:PATH)")
	cmd.Flags().IntVar(&c.TTL, "ttl", 30, "window length in seconds")
	cmd.Flags().StringVar(&c.Alphabet, "alphabet", "", "code alphabet (default a-z A-Z 0-9)")
	cmd.Flags().IntVar(&c.Length, "length", 6, "code length")
	cmd.Flags().IntVar(&c.UTCOffsetSeconds, "utc-offset", 0, "UTC offset of the client's host, seconds")
	cmd.Flags().StringVar(&header, "header", "x-rolling-code", "header carrying the code")
	cmd.Flags().StringVar(&clientHeader, "client-header", "x-rolling-code-client", "header naming the client")
	cmd.Flags().StringVar(&client, "client", "", "client name (sent in --client-header when set)")
	return cmd
}

// parseEndpoints reads "GET:/a,/b" items into scoped-token endpoints.
func parseEndpoints(items []string) ([]token.ScopedEndpoint, error) {
	var out []token.ScopedEndpoint
	for _, it := range items {
		method, prefixes, ok := strings.Cut(it, ":")
		if !ok || method == "" || prefixes == "" {
			return nil, fmt.Errorf("--endpoint %q: want METHOD:/prefix[,/prefix...]", it)
		}
		out = append(out, token.ScopedEndpoint{Method: strings.ToUpper(method), Prefixes: strings.Split(prefixes, ",")})
	}
	return out, nil
}

func mintScoped() *cobra.Command {
	var m mintCommon
	var secret, keyword, recipient string
	var user, maxAge int64
	var endpoints []string
	var sha1 bool
	cmd := &cobra.Command{
		Use:     "scoped-token",
		Short:   "A Django-signed temporary scoped token (drf-tmp-scoped-token)",
		Example: `  tokengate mint scoped-token --secret-key env:DJANGO_SECRET_KEY --user 7 --max-age 300 --endpoint GET:/exports`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := readSecret("--secret-key", secret)
			if err != nil {
				return err
			}
			now, err := m.now()
			if err != nil {
				return err
			}
			eps, err := parseEndpoints(endpoints)
			if err != nil {
				return err
			}
			opt := token.ScopedOptions{}
			if sha1 {
				opt.Algorithm = "sha1"
			}
			tok, err := token.ScopedToken(key, token.ScopedClaims{User: user, MaxAge: maxAge, Endpoints: eps, Recipient: recipient}, now, opt)
			if err != nil {
				return err
			}
			m.print(cmd.OutOrStdout(), [][2]string{{"Authorization", keyword + " " + tok}})
			return nil
		},
	}
	m.add(cmd)
	cmd.Flags().StringVar(&secret, "secret-key", "", "Django SECRET_KEY (literal, env:NAME or file:PATH)")
	cmd.Flags().Int64Var(&user, "user", 0, "user id")
	cmd.Flags().Int64Var(&maxAge, "max-age", 300, "lifetime in seconds")
	cmd.Flags().StringArrayVar(&endpoints, "endpoint", nil, "allowed METHOD:/prefix[,/prefix...] (repeatable)")
	cmd.Flags().StringVar(&recipient, "recipient", "", "optional recipient")
	cmd.Flags().StringVar(&keyword, "keyword", "TmpToken", "Authorization keyword")
	cmd.Flags().BoolVar(&sha1, "legacy-sha1", false, "sign with SHA-1 (Django < 3.1)")
	return cmd
}

func mintJWT() *cobra.Command {
	var m mintCommon
	var keyPath, scheme string
	var s token.JWTSigner
	cmd := &cobra.Command{
		Use:   "jwt",
		Short: "A client-signed JWT (asymmetric-jwt-auth shape, or standard claims with --standard)",
		Long: `Signs a fresh JWT with a private key (see keygen): by default the
asymmetric-jwt-auth shape {"username","time","nonce"} sent as "Authorization: JWT";
with --standard, iss/sub/aud/iat/exp/jti sent as "Authorization: Bearer".`,
		Example: `  tokengate mint jwt --key bot.key --username bot
  tokengate mint jwt --standard --key bot.key --iss bots --sub bot-7 --aud api.example.test --ttl 2m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := readPrivateKey(keyPath)
			if err != nil {
				return err
			}
			now, err := m.now()
			if err != nil {
				return err
			}
			s.Key = key
			tok, err := s.Sign(now)
			if err != nil {
				return err
			}
			if scheme == "" {
				scheme = "JWT"
				if s.Standard {
					scheme = "Bearer"
				}
			}
			m.print(cmd.OutOrStdout(), [][2]string{{"Authorization", scheme + " " + tok}})
			return nil
		},
	}
	m.add(cmd)
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "private key PEM file")
	f.StringVar(&s.Algorithm, "alg", "", "algorithm (default: decided by the key; RSA: RS512)")
	f.StringVar(&s.KeyID, "kid", "", "kid header (default: key fingerprint)")
	f.BoolVar(&s.OmitKeyID, "no-kid", false, "send no kid")
	f.StringVar(&s.Username, "username", "", "asymmetric-jwt-auth username")
	f.BoolVar(&s.Standard, "standard", false, "standard claims instead of the asymmetric-jwt-auth shape")
	f.StringVar(&s.Issuer, "iss", "", "iss (standard)")
	f.StringVar(&s.Subject, "sub", "", "sub (standard)")
	f.StringVar(&s.Audience, "aud", "", "aud (standard)")
	f.DurationVar(&s.TTL, "ttl", time.Minute, "exp = now + ttl (standard)")
	f.StringVar(&s.Scope, "scope", "", "scope claim (space-separated scopes)")
	f.StringVar(&scheme, "scheme", "", "Authorization scheme (default JWT, or Bearer with --standard)")
	return cmd
}

func mintAuthnz() *cobra.Command {
	var m mintCommon
	var fernet, version, scheme, subject string
	var ttl time.Duration
	var k token.AuthnzerverKey
	cmd := &cobra.Command{
		Use:   "authnzerver-key",
		Short: "An authnzerver API key in its Fernet envelope",
		Example: `  tokengate mint authnzerver-key --fernet-key env:AUTHNZERVER_SECRET --issuer authnzerver --api-version 1 \
      --user-id 7 --role staff --audience api.example.test --ip 127.0.0.1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fk, err := readSecret("--fernet-key", fernet)
			if err != nil {
				return err
			}
			now, err := m.now()
			if err != nil {
				return err
			}
			if n, err := strconv.Atoi(version); err == nil {
				k.Version = n
			} else {
				k.Version = version
			}
			if subject != "" && subject != "all" {
				k.Subject = strings.Split(subject, ",")
			}
			k.IssuedAt, k.NotBefore, k.Expires = now, now, now.Add(ttl)
			key, err := token.AuthnzerverAPIKey(string(fk), k, now, nil)
			if err != nil {
				return err
			}
			m.print(cmd.OutOrStdout(), [][2]string{{"Authorization", scheme + " " + key}})
			return nil
		},
	}
	m.add(cmd)
	f := cmd.Flags()
	f.StringVar(&fernet, "fernet-key", "", "the shared Fernet key (literal, env:NAME or file:PATH)")
	f.StringVar(&k.Issuer, "issuer", "authnzerver", "iss")
	f.StringVar(&version, "api-version", "1", "ver (a number is sent as a number)")
	f.Int64Var(&k.UserID, "user-id", 0, "uid")
	f.StringVar(&k.Role, "role", "authenticated", "rol")
	f.StringVar(&k.Audience, "audience", "", "aud: the API's host[:port]")
	f.StringVar(&subject, "subject", "all", `sub: "all" or comma-separated paths`)
	f.StringVar(&k.IPAddress, "ip", "", "ipa: the client address the key is bound to")
	f.StringVar(&k.UserAgent, "user-agent", "", "usa (session-tied keys only)")
	f.DurationVar(&ttl, "ttl", 24*time.Hour, "lifetime")
	f.StringVar(&scheme, "scheme", "Bearer", "Authorization scheme")
	return cmd
}

func mintSigned() *cobra.Command {
	var m mintCommon
	var key, data, header, clientHeader, client string
	cmd := &cobra.Command{
		Use:     "signed-payload",
		Short:   "A bottleship-style signed payload !<hmac>?<data>",
		Example: `  tokengate mint signed-payload --key env:REPORTING_KEY --data '{"report":"daily"}' --client reporting`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := readSecret("--key", key)
			if err != nil {
				return err
			}
			var h [][2]string
			if client != "" {
				h = append(h, [2]string{clientHeader, client})
			}
			m.print(cmd.OutOrStdout(), append(h, [2]string{header, token.BottleshipSign(data, k)}))
			return nil
		},
	}
	m.add(cmd)
	cmd.Flags().StringVar(&key, "key", "", "the client's key (literal, env:NAME or file:PATH)")
	cmd.Flags().StringVar(&data, "data", "", "the text to sign")
	cmd.Flags().StringVar(&header, "header", "x-signed-payload", "header carrying the payload")
	cmd.Flags().StringVar(&clientHeader, "client-header", "x-signed-payload-client", "header naming the client")
	cmd.Flags().StringVar(&client, "client", "", "client name (sent in --client-header when set)")
	return cmd
}

func mintHTTPSig() *cobra.Command {
	var m mintCommon
	var keyPath, secret, method, body string
	var headers, components []string
	var s token.HTTPSigner
	cmd := &cobra.Command{
		Use:   "http-signature [flags] URL",
		Short: "RFC 9421 signature headers for one request (hmac-sha256, ed25519, ecdsa-p256, rsa)",
		Long: `Prints Signature-Input and Signature (and Content-Digest when a body is given)
for exactly this request: the same method, URL and body must be sent.`,
		Example: `  tokengate mint http-signature --secret env:PARTNER_HMAC --keyid partner http://api.example.test/webhooks/x
  tokengate mint http-signature --key bot.key --keyid bot-2026 --nonce -X POST -d '{"n":1}' http://api.example.test/orders`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case keyPath != "" && secret != "":
				return errors.New("give --key or --secret, not both")
			case keyPath != "":
				k, err := readPrivateKey(keyPath)
				if err != nil {
					return err
				}
				if ek, ok := k.(ed25519.PrivateKey); ok {
					s.Key = ek
				} else {
					s.Key = k
				}
			default:
				sec, err := readSecret("--secret", secret)
				if err != nil {
					return err
				}
				s.Key = sec
			}
			now, err := m.now()
			if err != nil {
				return err
			}
			u, err := url.Parse(args[0])
			if err != nil || u.Host == "" {
				return fmt.Errorf("URL %q: want an absolute http URL", args[0])
			}
			var r io.Reader
			if body != "" {
				r = strings.NewReader(body)
				if !cmd.Flags().Changed("request") {
					method = "POST" // as curl -d does
				}
			}
			req, err := http.NewRequest(method, u.String(), r)
			if err != nil {
				return err
			}
			for _, h := range headers {
				n, v, ok := strings.Cut(h, ":")
				if !ok {
					return fmt.Errorf("-H %q: want 'Name: value'", h)
				}
				req.Header.Add(strings.TrimSpace(n), strings.TrimSpace(v))
			}
			if len(components) > 0 {
				s.Components = components
			}
			if err := s.Sign(req, now); err != nil {
				return err
			}
			var out [][2]string
			for _, n := range []string{"Content-Digest", "Signature-Input", "Signature"} {
				if v := req.Header.Get(n); v != "" {
					out = append(out, [2]string{n, v})
				}
			}
			m.print(cmd.OutOrStdout(), out)
			return nil
		},
	}
	m.add(cmd)
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "private key PEM file (ed25519, ecdsa-p256, rsa)")
	f.StringVar(&secret, "secret", "", "HMAC secret (literal, env:NAME or file:PATH)")
	f.StringVar(&s.KeyID, "keyid", "", "keyid the plugin knows the key by")
	f.StringVar(&s.Algorithm, "alg", "", "also send this alg parameter (rsa: rsa-v1_5-sha256 selects PKCS#1 v1.5)")
	f.StringVar(&s.Label, "label", "sig1", "signature label")
	f.BoolVar(&s.Nonce, "nonce", false, "add a random nonce (single use)")
	f.DurationVar(&s.Expires, "expires", 0, "add expires = created + this")
	f.StringVarP(&method, "request", "X", "GET", "request method (POST when -d is given)")
	f.StringVarP(&body, "data", "d", "", "request body (covered through content-digest)")
	f.StringArrayVarP(&headers, "header", "H", nil, "request header 'Name: value' (cover it with --component)")
	f.StringArrayVar(&components, "component", nil, "covered component (repeatable; default @method @path @authority [content-digest])")
	return cmd
}
