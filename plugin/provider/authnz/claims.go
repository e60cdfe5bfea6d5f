package authnz

import (
	"net/netip"

	"github.com/buger/jsonparser"
	"github.com/tokengate/tokengate/plugin/provider"
)

// Refusals of the claim checks.
var (
	ErrClaims      = provider.NewError(provider.ReasonClaims, "api key claims are malformed")
	ErrExpired     = provider.NewError(provider.ReasonExpired, "api key is past exp")
	ErrNotYetValid = provider.NewError(provider.ReasonNotYetValid, "api key is before nbf or iat")
	ErrIssuer      = provider.NewError(provider.ReasonIssuer, "api key issuer does not match")
	ErrVersion     = provider.NewError(provider.ReasonClaims, "api key version does not match")
	ErrAudience    = provider.NewError(provider.ReasonAudience, "api key audience does not match the host")
	ErrIP          = provider.NewError(provider.ReasonBinding, "api key is bound to another address")
	ErrUserAgent   = provider.NewError(provider.ReasonBinding, "api key is bound to another user agent")
	ErrSubject     = provider.NewError(provider.ReasonScope, "api key subject does not cover this path")
)

// Claims are an authnzerver API key's members, as raw JSON values (views
// into the decrypted plaintext, valid until the next verification).
type Claims struct {
	Iss, Rol, Usa, Aud, Ipa, Tkn []byte // unescaped strings
	Ver                          []byte // raw JSON value
	VerType                      jsonparser.ValueType
	Uid                          []byte // raw JSON number
	Sub                          []byte // raw JSON value: string or array
	SubType                      jsonparser.ValueType
	Iat, Nbf, Exp                int64 // unix microseconds
	HasUsa                       bool
}

const (
	fIss = 1 << iota
	fVer
	fUid
	fRol
	fUsa
	fAud
	fSub
	fIpa
	fTkn
	fIat
	fNbf
	fExp
	required = fIss | fVer | fUid | fRol | fAud | fSub | fIpa | fTkn | fIat | fNbf | fExp
)

// parseClaims reads the key JSON strictly: every member once, of the type
// authnzerver writes.
func parseClaims(js []byte) (Claims, error) {
	var c Claims
	var seen int
	bad := false
	str := func(v []byte, t jsonparser.ValueType) []byte {
		if t != jsonparser.String {
			bad = true
			return nil
		}
		if bytesIndexByte(v, '\\') >= 0 {
			// Python escapes non-ASCII (ensure_ascii) and quotes, e.g. in a
			// user agent: unescape (allocates; rare).
			u, err := jsonparser.Unescape(v, nil)
			if err != nil {
				bad = true
			}
			return u
		}
		return v
	}
	err := jsonparser.ObjectEach(js, func(k, v []byte, t jsonparser.ValueType, _ int) error {
		var bit int
		switch string(k) {
		case "iss":
			bit, c.Iss = fIss, str(v, t)
		case "ver":
			bit, c.Ver, c.VerType = fVer, v, t
			if t != jsonparser.Number && t != jsonparser.String {
				bad = true
			}
		case "uid":
			bit, c.Uid = fUid, v
			if _, err := jsonparser.ParseInt(v); t != jsonparser.Number || err != nil {
				bad = true
			}
		case "rol":
			bit, c.Rol = fRol, str(v, t)
		case "usa":
			bit, c.Usa, c.HasUsa = fUsa, str(v, t), true
		case "aud":
			bit, c.Aud = fAud, str(v, t)
		case "sub":
			bit, c.Sub, c.SubType = fSub, v, t
			if t != jsonparser.String && t != jsonparser.Array {
				bad = true
			}
		case "ipa":
			bit, c.Ipa = fIpa, str(v, t)
		case "tkn":
			bit, c.Tkn = fTkn, str(v, t)
		case "iat", "nbf", "exp":
			us, ok := parseNaiveUTC(str(v, t))
			bad = bad || !ok
			switch k[0] {
			case 'i':
				bit, c.Iat = fIat, us
			case 'n':
				bit, c.Nbf = fNbf, us
			default:
				bit, c.Exp = fExp, us
			}
		}
		if seen&bit != 0 {
			bad = true
		}
		seen |= bit
		return nil
	})
	if err != nil || bad || seen&required != required {
		return Claims{}, ErrClaims
	}
	return c, nil
}

// parseNaiveUTC reads Python's naive utcnow().isoformat():
// YYYY-MM-DDTHH:MM:SS with an optional .ffffff, as unix microseconds.
func parseNaiveUTC(s []byte) (int64, bool) {
	if len(s) != 19 && len(s) != 26 {
		return 0, false
	}
	num := func(i, n int) (int64, bool) {
		var v int64
		for _, c := range s[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int64(c-'0')
		}
		return v, true
	}
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	h, ok4 := num(11, 2)
	mi, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	var frac int64
	ok7 := true
	if len(s) == 26 {
		if s[19] != '.' {
			return 0, false
		}
		frac, ok7 = num(20, 6)
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	days := daysFromCivil(y, mo, d)
	return ((days*24+h)*60+mi)*60*1e6 + sec*1e6 + frac, true
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days since 1970-01-01 (proleptic Gregorian).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func bytesIndexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// Policy is what the claims must satisfy besides their signature.
type Policy struct {
	Issuer string
	// Version is the expected "ver" as raw JSON (number or string); types
	// must match, as in authnzerver's frontend.
	Version     []byte
	VersionType jsonparser.ValueType
	// Audiences, when set, lists accepted "aud" values; otherwise "aud"
	// must equal the request's Host (:authority).
	Audiences    []string
	CheckIP      bool
	CheckUA      bool
	CheckSubject bool
}

// check applies p to c for a request; nowNs is the request time.
func (p *Policy) check(c *Claims, req *provider.Request) error {
	nowUs := req.Now / 1000
	nowRem := req.Now % 1000
	// exp > now, nbf < now, iat < now, strictly (authnzerver's apikey-verify).
	if !(c.Exp > nowUs || (c.Exp == nowUs && nowRem < 0)) {
		return ErrExpired
	}
	if !(c.Nbf < nowUs || (c.Nbf == nowUs && nowRem > 0)) || !(c.Iat < nowUs || (c.Iat == nowUs && nowRem > 0)) {
		return ErrNotYetValid
	}
	if string(c.Iss) != p.Issuer {
		return ErrIssuer
	}
	if !sameVersion(c.Ver, c.VerType, p.Version, p.VersionType) {
		return ErrVersion
	}
	if len(p.Audiences) > 0 {
		ok := false
		for _, a := range p.Audiences {
			ok = ok || string(c.Aud) == a
		}
		if !ok {
			return ErrAudience
		}
	} else if string(c.Aud) != req.Authority {
		return ErrAudience
	}
	if p.CheckIP {
		// The view is only parsed and compared here, never kept.
		a, err := netip.ParseAddr(unsafeString(c.Ipa))
		if err != nil || !req.ClientAddr().IsValid() || a.Unmap() != req.ClientAddr().Unmap() {
			return ErrIP
		}
	}
	if p.CheckUA {
		ua, n := req.Header("user-agent")
		if !c.HasUsa || n != 1 || string(c.Usa) != ua {
			return ErrUserAgent
		}
	}
	if p.CheckSubject && !subjectCovers(c.Sub, c.SubType, req.Path) {
		return ErrSubject
	}
	return nil
}

func sameVersion(v []byte, vt jsonparser.ValueType, want []byte, wt jsonparser.ValueType) bool {
	if vt != wt {
		return false
	}
	if vt == jsonparser.Number {
		a, e1 := jsonparser.ParseInt(v)
		b, e2 := jsonparser.ParseInt(want)
		return e1 == nil && e2 == nil && a == b
	}
	return string(v) == string(want)
}

// subjectCovers: "all", a string equal to the path, or a list holding it.
func subjectCovers(sub []byte, t jsonparser.ValueType, path string) bool {
	if t == jsonparser.String {
		return string(sub) == "all" || string(sub) == path
	}
	found := false
	_, err := jsonparser.ArrayEach(sub, func(v []byte, vt jsonparser.ValueType, _ int, _ error) {
		if vt == jsonparser.String && string(v) == path {
			found = true
		}
	})
	return err == nil && found
}
