// Package bench holds the end-to-end workloads that bench_test.go measures and
// the pprof harness profiles: zerossh and golang.org/x/crypto/ssh, each as
// client and server over TCP on 127.0.0.1, with both ends in one process
// unless a benchmark says otherwise.
//
// Every connection pins its algorithms (Algorithms), authenticates with an
// ed25519 user key against an ed25519 host key, and talks to a server that
// answers two things on a session channel: "exec" of any command reads the
// channel's data until EOF, discards it and exits 0 (the sink), and the "sftp"
// subsystem runs this module's sftp.Serve on a directory. The SFTP code is
// the same on both implementations, so an SFTP difference is a transport
// difference.
//
// The benchmarks (go test -bench . ./bench) are:
//
//	BenchmarkTransfer/<impl>/<cipher>    32 KiB channel writes into the sink
//	BenchmarkHandshake/<impl>/<kex>      TCP dial to an opened session channel
//	BenchmarkHandshakeParallel/<impl>/<kex>  the same, 8 clients at once
//	BenchmarkHandshakeReusePort/{single,reuseport}  zerossh's accept path, 8 clients,
//	                                     one accept loop or one per CPU (SO_REUSEPORT)
//	BenchmarkSFTP/<impl>/{upload,download}  64 MiB files
//	BenchmarkIdleConns/<impl>/{server,client}  memory of 1,000 idle connections
//	BenchmarkAEAD/<cipher>/{seal,open}   the raw cipher on 32 KiB, the ceiling
//	BenchmarkPacket/<cipher>/{raw,zerossh}  seal + open of one 32 KiB packet: the raw
//	                                     cipher's and the transport's (package cipher)
//
// with <impl> one of zerossh, x-crypto-ssh and, where OpenSSH is installed,
// openssh (ssh and sftp against sshd, as processes, for transfers and SFTP).
// The runner in bench/cmd/benchrun (make bench) runs each in a fresh
// process, the implementations interleaved run by run, and prints the table
// of medians and ratios that RESULTS.md keeps, with the chart
// throughput.png. The pprof directory's harness profiles the same
// workloads.
package bench
