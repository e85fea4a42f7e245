package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// IntrospectionConfig configures an RFC 7662 introspection verifier.
type IntrospectionConfig struct {
	// URL is the issuer's introspection endpoint.
	URL string
	// ClientID and ClientSecret authenticate this resource server to it
	// (client_secret_basic).
	ClientID, ClientSecret string
	// Issuer, when the reply names one, must match it.
	Issuer string
	// Audience is this resource's URL; the reply's aud must contain it.
	Audience string
	// Skew is the clock leeway for exp and nbf; 0 means 30s.
	Skew time.Duration
	// Client makes the calls; nil means a keep-alive client with a 10s
	// timeout and a pool sized for load.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// IntrospectionVerifier asks the authorization server about every token.
type IntrospectionVerifier struct {
	cfg IntrospectionConfig
}

var _ Verifier = (*IntrospectionVerifier)(nil)

// NewIntrospection makes an introspection verifier.
func NewIntrospection(cfg IntrospectionConfig) (*IntrospectionVerifier, error) {
	if cfg.URL == "" || cfg.ClientID == "" || cfg.Audience == "" {
		return nil, errors.New("auth: an introspection verifier needs URL, ClientID and Audience")
	}
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("auth: introspection URL %q is not http(s)", cfg.URL)
	}
	if cfg.Skew == 0 {
		cfg.Skew = 30 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute,
		}}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &IntrospectionVerifier{cfg: cfg}, nil
}

// introspection is the part of an RFC 7662 reply the verifier reads.
type introspection struct {
	Active    bool            `json:"active"`
	Scope     string          `json:"scope"`
	ClientID  string          `json:"client_id"`
	Subject   string          `json:"sub"`
	Audience  json.RawMessage `json:"aud"`
	Issuer    string          `json:"iss"`
	Expiry    int64           `json:"exp"`
	NotBefore int64           `json:"nbf"`
	ID        string          `json:"jti"`
	CNF       *struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// Verify asks the introspection endpoint and checks what it says.
func (v *IntrospectionVerifier) Verify(ctx context.Context, token string, r Request) (*Info, error) {
	if len(token) > MaxTokenBytes {
		return nil, invalid("token of %d bytes; at most %d", len(token), MaxTokenBytes)
	}
	body := "token=" + url.QueryEscape(token) + "&token_type_hint=access_token"
	req, err := http.NewRequestWithContext(ctx, "POST", v.cfg.URL, strings.NewReader(body))
	if err != nil {
		return nil, &Error{Kind: ErrUnavailable, Reason: err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(v.cfg.ClientID), url.QueryEscape(v.cfg.ClientSecret))
	Counters.Introspections.Add(1)
	resp, err := v.cfg.Client.Do(req)
	if err != nil {
		return nil, &Error{Kind: ErrUnavailable, Reason: "introspection: " + err.Error()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, &Error{Kind: ErrUnavailable, Reason: "introspection: " + err.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &Error{Kind: ErrUnavailable, Reason: fmt.Sprintf("introspection answered %d", resp.StatusCode)}
	}
	var in introspection
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, &Error{Kind: ErrUnavailable, Reason: "introspection reply: " + err.Error()}
	}
	return v.check(&in)
}

func (v *IntrospectionVerifier) check(in *introspection) (*Info, error) {
	if !in.Active {
		return nil, invalid("token not active")
	}
	now := v.cfg.Now()
	if in.Expiry == 0 {
		return nil, invalid("no expiry")
	}
	exp := time.Unix(in.Expiry, 0)
	if !now.Before(exp.Add(v.cfg.Skew)) {
		return nil, invalid("token expired")
	}
	if in.NotBefore != 0 && now.Add(v.cfg.Skew).Before(time.Unix(in.NotBefore, 0)) {
		return nil, invalid("token not valid yet")
	}
	if v.cfg.Issuer != "" && in.Issuer != "" && in.Issuer != v.cfg.Issuer {
		return nil, invalid("wrong issuer")
	}
	var aud []string
	if len(in.Audience) > 0 && in.Audience[0] == '"' {
		var one string
		json.Unmarshal(in.Audience, &one)
		aud = []string{one}
	} else {
		json.Unmarshal(in.Audience, &aud)
	}
	if !slices.Contains(aud, v.cfg.Audience) {
		return nil, invalid("token not meant for this resource (aud)")
	}
	info := &Info{
		Subject: in.Subject, ClientID: in.ClientID, Issuer: in.Issuer, Audience: aud,
		Scopes: strings.Fields(in.Scope), Expiry: exp, ID: in.ID,
	}
	if in.CNF != nil {
		if in.CNF.JKT == "" {
			return nil, invalid("a cnf without jkt: bound to nothing this resource checks")
		}
		info.JKT = in.CNF.JKT
	}
	return info, nil
}
