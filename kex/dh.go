package kex

import (
	"crypto"
	"errors"
	"io"
	"math/big"
	"strings"

	"github.com/zerossh/zerossh/wire"
)

// diffie-hellman-group14-sha256, -group16-sha512 and -group18-sha512 (RFC
// 8268 §3) are the Diffie-Hellman key exchange of RFC 4253 §8 over the
// MODP groups 14, 16 and 18 of RFC 3526, generator 2:
//
//	byte   SSH_MSG_KEXDH_INIT (30)
//	mpint  e
//
//	byte   SSH_MSG_KEXDH_REPLY (31)
//	string K_S
//	mpint  f
//	string the signature on the exchange hash
//
// with H = HASH(V_C || V_S || I_C || I_S || K_S || e || f || K).
var (
	dhGroup14SHA256 = &dhFixed{name: DHGroup14SHA256, hash: crypto.SHA256, group: group14}
	dhGroup16SHA512 = &dhFixed{name: DHGroup16SHA512, hash: crypto.SHA512, group: group16}
	dhGroup18SHA512 = &dhFixed{name: DHGroup18SHA512, hash: crypto.SHA512, group: group18}
)

// SSH_MSG_KEXDH_INIT and SSH_MSG_KEXDH_REPLY share their numbers with the
// ECDH messages: RFC 4251 §7 leaves 30-49 to each key exchange method.
const (
	msgKexDHInit  = wire.MsgKexECDHInit
	msgKexDHReply = wire.MsgKexECDHReply
)

// The MODP groups of RFC 3526 §3-§7, all with generator 2. Each prime is
// 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) pi] + k) and a safe prime;
// TestMODPGroups derives each from pi again and checks both properties.
var (
	group14 = newDHGroup(modp2048)
	group15 = newDHGroup(modp3072)
	group16 = newDHGroup(modp4096)
	group17 = newDHGroup(modp6144)
	group18 = newDHGroup(modp8192)

	// modpGroups is what a group exchange server offers, smallest first.
	modpGroups = []*dhGroup{group14, group15, group16, group17, group18}
)

// dhExponentBits is the size of our private exponents. With a safe prime
// p = 2q+1 the best attack on a short exponent costs about 2^(bits/2)
// (Pollard's lambda), so an exponent must have twice the group's security
// in bits. The largest group here, 8192 bits, gives less than 256 bits of
// security, so 512 bits covers every group; it is also the floor OpenSSH
// puts on its own exponents.
const dhExponentBits = 512

// dhGroup is a multiplicative group modulo a prime p with generator g.
type dhGroup struct {
	p, pMinus1, g *big.Int
}

func newDHGroup(hexPrime string) *dhGroup {
	p, ok := new(big.Int).SetString(strings.Join(strings.Fields(hexPrime), ""), 16)
	if !ok {
		panic("kex: bad MODP prime literal")
	}
	return &dhGroup{p: p, pMinus1: new(big.Int).Sub(p, bigOne), g: big.NewInt(2)}
}

var (
	bigOne = big.NewInt(1)

	errDHRange   = errors.New("kex: Diffie-Hellman public value out of range (1, p-1)")
	errDHTrivial = errors.New("kex: Diffie-Hellman shared secret is trivial")
)

// newKey draws a private exponent x uniformly from [2, 2^bits), with bits
// the smaller of dhExponentBits and the size of p less one, and returns x
// with g^x mod p.
func (gr *dhGroup) newKey(rand io.Reader) (x, pub *big.Int, err error) {
	bits := min(dhExponentBits, gr.p.BitLen()-1)
	b := make([]byte, (bits+7)/8)
	defer clear(b)
	x = new(big.Int)
	for range 64 {
		if _, err := io.ReadFull(rand, b); err != nil {
			return nil, nil, err
		}
		if extra := len(b)*8 - bits; extra > 0 {
			b[0] &= 0xff >> extra
		}
		if x.SetBytes(b).Cmp(bigOne) > 0 {
			return x, new(big.Int).Exp(gr.g, x, gr.p), nil
		}
	}
	return nil, nil, errors.New("kex: could not draw a Diffie-Hellman exponent")
}

// checkPublic enforces RFC 4253 §8: "Values of 'e' or 'f' that are not in
// the range [1, p-1] MUST NOT be sent or accepted by either side. If this
// condition is violated, the key exchange fails." We exclude 1 and p-1 as
// well, the elements of order 1 and 2, which would force K into {1, p-1}.
func (gr *dhGroup) checkPublic(y *big.Int) error {
	if y.Cmp(bigOne) <= 0 || y.Cmp(gr.pMinus1) >= 0 {
		return errDHRange
	}
	return nil
}

// sharedK checks the peer's value y and returns K = y^x mod p as an mpint.
func (gr *dhGroup) sharedK(x, y *big.Int) ([]byte, error) {
	if err := gr.checkPublic(y); err != nil {
		return nil, err
	}
	k := new(big.Int).Exp(y, x, gr.p)
	// Unreachable in a safe-prime group for a y that passed the range
	// check; a group exchange server can send any p, though.
	if k.Cmp(bigOne) <= 0 || k.Cmp(gr.pMinus1) == 0 {
		return nil, errDHTrivial
	}
	return wire.AppendMpint(nil, k.Bytes()), nil
}

// dhExchange holds one side's view of a finished Diffie-Hellman exchange:
// e and f as magnitudes, K encoded as an mpint.
type dhExchange struct {
	hostKey, e, f, k, sig []byte
}

// dhClient sends e in message initMsg and reads K_S, f and the signature
// from message replyMsg (RFC 4253 §8, RFC 4419 §3).
func dhClient(c PacketConn, rand io.Reader, gr *dhGroup, initMsg, replyMsg byte, name string) (*dhExchange, error) {
	x, e, err := gr.newKey(randOrDefault(rand))
	if err != nil {
		return nil, err
	}
	eb := e.Bytes()
	msg := make([]byte, 0, 1+4+1+len(eb))
	msg = wire.AppendMpint(append(msg, initMsg), eb)
	if err := c.WritePacket(msg); err != nil {
		return nil, err
	}

	r, err := readMsg(c, replyMsg)
	if err != nil {
		return nil, err
	}
	var hostKey, fb, sig []byte
	if !r.ReadString(&hostKey) || !r.ReadMpint(&fb) || !r.ReadString(&sig) || !r.Empty() {
		return nil, errMalformed(name + " reply")
	}
	k, err := gr.sharedK(x, new(big.Int).SetBytes(fb))
	if err != nil {
		return nil, err
	}
	return &dhExchange{hostKey: clone(hostKey), e: eb, f: clone(fb), k: k, sig: clone(sig)}, nil
}

// dhServer reads e from message initMsg, answers with K_S, f and the
// signature on the exchange hash in message replyMsg. exchangeHash
// computes H from the exchange's values.
func dhServer(c PacketConn, rand io.Reader, gr *dhGroup, initMsg, replyMsg byte, name string,
	hostKey []byte, sign Signer, exchangeHash func(*dhExchange) []byte) (*dhExchange, []byte, error) {
	r, err := readMsg(c, initMsg)
	if err != nil {
		return nil, nil, err
	}
	var eb []byte
	if !r.ReadMpint(&eb) || !r.Empty() {
		return nil, nil, errMalformed(name + " init")
	}
	e := new(big.Int).SetBytes(eb)
	// Check e before spending an exponentiation on it.
	if err := gr.checkPublic(e); err != nil {
		return nil, nil, err
	}
	x, f, err := gr.newKey(randOrDefault(rand))
	if err != nil {
		return nil, nil, err
	}
	k, err := gr.sharedK(x, e)
	if err != nil {
		return nil, nil, err
	}
	ex := &dhExchange{hostKey: hostKey, e: clone(eb), f: f.Bytes(), k: k}
	h := exchangeHash(ex)
	if ex.sig, err = sign(h); err != nil {
		return nil, nil, err
	}

	msg := make([]byte, 0, 1+4+len(hostKey)+4+1+len(ex.f)+4+len(ex.sig))
	msg = append(msg, replyMsg)
	msg = wire.AppendString(msg, hostKey)
	msg = wire.AppendMpint(msg, ex.f)
	msg = wire.AppendString(msg, ex.sig)
	if err := c.WritePacket(msg); err != nil {
		return nil, nil, err
	}
	return ex, h, nil
}

// dhFixed is Diffie-Hellman over one fixed group.
type dhFixed struct {
	name  string
	hash  crypto.Hash
	group *dhGroup
}

var _ Method = (*dhFixed)(nil)

func (m *dhFixed) Name() string { return m.name }

func (m *dhFixed) exchangeHash(magics *Magics, ex *dhExchange) []byte {
	t := newTranscript(m.hash, magics)
	t.string(ex.hostKey)
	t.mpint(ex.e)
	t.mpint(ex.f)
	t.raw(ex.k)
	return t.sum()
}

func (m *dhFixed) Client(c PacketConn, rand io.Reader, magics *Magics) (*Result, error) {
	if magics == nil {
		return nil, errNilMagics
	}
	ex, err := dhClient(c, rand, m.group, msgKexDHInit, msgKexDHReply, m.name)
	if err != nil {
		return nil, err
	}
	return &Result{
		H:         m.exchangeHash(magics, ex),
		K:         ex.k,
		Hash:      m.hash,
		HostKey:   ex.hostKey,
		Signature: ex.sig,
	}, nil
}

func (m *dhFixed) Server(c PacketConn, rand io.Reader, magics *Magics, hostKey []byte, sign Signer) (*Result, error) {
	if magics == nil {
		return nil, errNilMagics
	}
	ex, h, err := dhServer(c, rand, m.group, msgKexDHInit, msgKexDHReply, m.name, hostKey, sign,
		func(ex *dhExchange) []byte { return m.exchangeHash(magics, ex) })
	if err != nil {
		return nil, err
	}
	return &Result{H: h, K: ex.k, Hash: m.hash, HostKey: hostKey, Signature: ex.sig}, nil
}

const (
	// modp2048 is the 2048-bit MODP group 14 prime of RFC 3526.
	modp2048 = `
FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74
020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437
4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED
EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05
98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB
9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B
E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718
3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF`

	// modp3072 is the 3072-bit MODP group 15 prime of RFC 3526.
	modp3072 = `
FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74
020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437
4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED
EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05
98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB
9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B
E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718
3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33
A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7
ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864
D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2
08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF`

	// modp4096 is the 4096-bit MODP group 16 prime of RFC 3526.
	modp4096 = `
FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74
020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437
4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED
EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05
98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB
9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B
E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718
3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33
A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7
ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864
D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2
08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7
88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8
DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2
233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9
93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF`

	// modp6144 is the 6144-bit MODP group 17 prime of RFC 3526.
	modp6144 = `
FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74
020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437
4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED
EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05
98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB
9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B
E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718
3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33
A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7
ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864
D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2
08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7
88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8
DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2
233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9
93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C93402849236C3FAB4D27C7026
C1D4DCB2602646DEC9751E763DBA37BDF8FF9406AD9E530EE5DB382F413001AE
B06A53ED9027D831179727B0865A8918DA3EDBEBCF9B14ED44CE6CBACED4BB1B
DB7F1447E6CC254B332051512BD7AF426FB8F401378CD2BF5983CA01C64B92EC
F032EA15D1721D03F482D7CE6E74FEF6D55E702F46980C82B5A84031900B1C9E
59E7C97FBEC7E8F323A97A7E36CC88BE0F1D45B7FF585AC54BD407B22B4154AA
CC8F6D7EBF48E1D814CC5ED20F8037E0A79715EEF29BE32806A1D58BB7C5DA76
F550AA3D8A1FBFF0EB19CCB1A313D55CDA56C9EC2EF29632387FE8D76E3C0468
043E8F663F4860EE12BF2D5B0B7474D6E694F91E6DCC4024FFFFFFFFFFFFFFFF`

	// modp8192 is the 8192-bit MODP group 18 prime of RFC 3526.
	modp8192 = `
FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74
020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437
4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED
EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05
98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB
9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B
E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718
3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33
A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7
ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864
D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2
08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7
88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8
DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2
233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9
93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C93402849236C3FAB4D27C7026
C1D4DCB2602646DEC9751E763DBA37BDF8FF9406AD9E530EE5DB382F413001AE
B06A53ED9027D831179727B0865A8918DA3EDBEBCF9B14ED44CE6CBACED4BB1B
DB7F1447E6CC254B332051512BD7AF426FB8F401378CD2BF5983CA01C64B92EC
F032EA15D1721D03F482D7CE6E74FEF6D55E702F46980C82B5A84031900B1C9E
59E7C97FBEC7E8F323A97A7E36CC88BE0F1D45B7FF585AC54BD407B22B4154AA
CC8F6D7EBF48E1D814CC5ED20F8037E0A79715EEF29BE32806A1D58BB7C5DA76
F550AA3D8A1FBFF0EB19CCB1A313D55CDA56C9EC2EF29632387FE8D76E3C0468
043E8F663F4860EE12BF2D5B0B7474D6E694F91E6DBE115974A3926F12FEE5E4
38777CB6A932DF8CD8BEC4D073B931BA3BC832B68D9DD300741FA7BF8AFC47ED
2576F6936BA424663AAB639C5AE4F5683423B4742BF1C978238F16CBE39D652D
E3FDB8BEFC848AD922222E04A4037C0713EB57A81A23F0C73473FC646CEA306B
4BCBC8862F8385DDFA9D4B7FA2C087E879683303ED5BDD3A062B3CF5B3A278A6
6D2A13F83F44F82DDF310EE074AB6A364597E899A0255DC164F31CC50846851D
F9AB48195DED7EA1B1D510BD7EE74D73FAF36BC31ECFA268359046F4EB879F92
4009438B481C6CD7889A002ED5EE382BC9190DA6FC026E479558E4475677E9AA
9E3050E2765694DFC81F56E880B96E7160C980DD98EDD3DFFFFFFFFFFFFFFFFF`
)
