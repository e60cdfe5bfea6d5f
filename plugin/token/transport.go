package token

import (
	"errors"
	"net/http"
	"time"
)

// Credential adds a credential to an outgoing request. Apply is called once
// per request, on a clone the Transport owns, so it may set headers freely.
type Credential interface {
	Apply(req *http.Request, now time.Time) error
}

// CredentialFunc adapts a function to Credential.
type CredentialFunc func(req *http.Request, now time.Time) error

// Apply implements Credential.
func (f CredentialFunc) Apply(req *http.Request, now time.Time) error { return f(req, now) }

// Transport is an http.RoundTripper that adds a fresh credential to every
// request before passing it to Base.
type Transport struct {
	Base       http.RoundTripper // nil: http.DefaultTransport
	Credential Credential
	Now        func() time.Time // nil: time.Now
}

// NewTransport returns a Transport signing with cred over base.
func NewTransport(base http.RoundTripper, cred Credential) *Transport {
	return &Transport{Base: base, Credential: cred}
}

// RoundTrip implements http.RoundTripper. It never modifies the caller's
// request (as the RoundTripper contract requires).
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Credential == nil {
		return nil, errors.New("token: Transport has no Credential")
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	clone := req.Clone(req.Context())
	if err := t.Credential.Apply(clone, now()); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(clone)
}

// HeaderCredential sets a fixed header (an API key, an authnzerver key).
func HeaderCredential(name, value string) Credential {
	return CredentialFunc(func(req *http.Request, _ time.Time) error {
		req.Header.Set(name, value)
		return nil
	})
}

// JWTCredential signs a fresh JWT per request and sends it as
// "Authorization: JWT <token>" (asymmetric-jwt-auth's scheme; set
// Scheme to "Bearer" for standard JWTs).
func JWTCredential(s *JWTSigner, scheme string) Credential {
	if scheme == "" {
		scheme = "JWT"
	}
	return CredentialFunc(func(req *http.Request, now time.Time) error {
		tok, err := s.Sign(now)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", scheme+" "+tok)
		return nil
	})
}

// M2MCredential sends the current m2m-token code in header.
func M2MCredential(c M2MConfig, header string) Credential {
	return CredentialFunc(func(req *http.Request, now time.Time) error {
		code, err := M2MCode(c, now)
		if err != nil {
			return err
		}
		req.Header.Set(header, code)
		return nil
	})
}

// RollingCredential sends the current secure rolling code in header and,
// when clientHeader is not empty, the client's name in clientHeader.
func RollingCredential(c RollingConfig, header, clientHeader, client string) Credential {
	return CredentialFunc(func(req *http.Request, now time.Time) error {
		code, err := RollingCode(c, now)
		if err != nil {
			return err
		}
		req.Header.Set(header, code)
		if clientHeader != "" {
			req.Header.Set(clientHeader, client)
		}
		return nil
	})
}

// HTTPSignatureCredential signs every request with s (RFC 9421).
func HTTPSignatureCredential(s *HTTPSigner) Credential {
	return CredentialFunc(func(req *http.Request, now time.Time) error { return s.Sign(req, now) })
}

// APIKeyCredential sends a tokengate API key as "Authorization: ApiKey <key>".
func APIKeyCredential(key string) Credential {
	return HeaderCredential("Authorization", "ApiKey "+key)
}
