package main

import (
	"flag"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/zerossh/zerossh"
	"github.com/zerossh/zerossh/cipher"
	"github.com/zerossh/zerossh/compression"
	"github.com/zerossh/zerossh/kex"
	"github.com/zerossh/zerossh/mac"
)

// algList applies an algorithm list in OpenSSH's syntax (ssh_config(5),
// "Ciphers") to the defaults: "+a,b" appends to them, "-a,b" removes
// from them (with * and ? wildcards), "^a,b" puts them first, anything
// else replaces them. Every name must be in known.
func algList(spec string, defaults, known []string) ([]string, error) {
	if spec == "" {
		return defaults, nil
	}
	op, names := spec[0], strings.Split(strings.TrimLeft(spec, "+-^"), ",")
	if op == '-' {
		out := slices.DeleteFunc(slices.Clone(defaults), func(d string) bool {
			for _, pat := range names {
				if ok, _ := path.Match(pat, d); ok {
					return true
				}
			}
			return false
		})
		if len(out) == 0 {
			return nil, fmt.Errorf("%q removes every algorithm", spec)
		}
		return out, nil
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("unsupported algorithm %q (supported: %s)", n, strings.Join(known, ","))
		}
	}
	switch op {
	case '+':
		out := slices.Clone(defaults)
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return out, nil
	case '^':
		out := slices.Clone(names)
		for _, d := range defaults {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
		return out, nil
	}
	return names, nil
}

// algFlags are the algorithm flags every command has.
type algFlags struct {
	ciphers, kex, macs, compression string
	compress                        bool
}

func (a *algFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.ciphers, "ciphers", "", "ciphers, in OpenSSH's list syntax (+alg appends, -alg removes, ^alg prepends)")
	fs.StringVar(&a.kex, "kex", "", "key exchange methods, in OpenSSH's list syntax")
	fs.StringVar(&a.macs, "macs", "", "MACs, in OpenSSH's list syntax")
	fs.StringVar(&a.compression, "compression", "", "compression methods, in OpenSSH's list syntax (default none, or with -C "+strings.Join(compression.All, ",")+")")
	fs.BoolVar(&a.compress, "C", false, "offer compression, as ssh -C does")
}

// apply sets the algorithm lists of cfg; a bad list is a usage error.
func (a *algFlags) apply(cfg *zerossh.Config) error {
	var err error
	set := func(dst *[]string, spec string, defaults, known []string) {
		if err != nil {
			return
		}
		*dst, err = algList(spec, defaults, known)
	}
	set(&cfg.Ciphers, a.ciphers, cipher.Default(), cipher.All)
	set(&cfg.KeyExchanges, a.kex, kex.Default, kex.All)
	set(&cfg.MACs, a.macs, mac.Default, mac.All)
	compressions := []string{compression.None}
	if a.compress {
		compressions = compression.All
	}
	set(&cfg.Compressions, a.compression, compressions, compression.All)
	return withCode(exitUsage, err)
}
