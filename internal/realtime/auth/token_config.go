package auth

// TokenConfig says how tokens of one kind (connection or subscription) are
// verified. It mirrors the configuration's token section field by field, so
// the wiring converts one into the other with a plain conversion and a field
// added on only one side fails the build instead of being dropped.
type TokenConfig struct {
	// HMACSecretKey verifies HS256/384/512 tokens.
	HMACSecretKey string
	// RSAPublicKey (PEM) verifies RS256/384/512 tokens.
	RSAPublicKey string
	// ECDSAPublicKey (PEM) verifies ES256/384/512 tokens.
	ECDSAPublicKey string
	// JWKSPublicEndpoint replaces the static keys with keys fetched by kid;
	// it may hold {{name}} placeholders filled from the issuer or audience
	// regex groups.
	JWKSPublicEndpoint string
	// Audience and AudienceRegex (exclusive) check the aud claim.
	Audience      string
	AudienceRegex string
	// Issuer and IssuerRegex (exclusive) check the iss claim.
	Issuer      string
	IssuerRegex string
	// UserIDClaim names the claim holding the user id; empty means sub.
	UserIDClaim string
}
