// Package vault keeps every secret of tokentray, in locked memory and, encrypted,
// on disk: the connections' keys and sealed refresh blobs, the device's Ed25519 key,
// cached provider profiles and settings.
//
// # Use
//
//	v, err := vault.Open(ctx, vault.Options{})          // the user's keyring-backed vault
//	var running *vault.AlreadyRunningError               // another agent owns it
//	...
//	err = v.Put("conn/abc", vault.Entry{Meta: meta, Secrets: map[string]*memguard.Enclave{
//		"access_token": memguard.NewEnclave(tok),       // tok is wiped
//	}})                                                  // durable on return
//	ent, ok := v.Get("conn/abc")
//	sig, err := v.DeviceKey().Sign(msg)
//	defer memguard.Purge()                               // from the app's stop path
//	defer v.Close()
//
// A Vault owns its folder (Options.Dir, default $TOKENTRAY_HOME, else
// $XDG_DATA_HOME/tokentray; on macOS and Windows os.UserConfigDir()/tokentray):
// the file "vault", the lock "vault.lock", short-lived ".vault.tmp-*" files during a
// save and any "vault.corrupt-*" files kept aside. Open takes the lock (flock, or
// LockFileEx on Windows, holding the pid); a second process gets
// *AlreadyRunningError naming the first. Every Put and Delete is saved before it returns;
// readers never wait for a save.
//
// # Key sources (Mode)
//
//   - ModeKeyring (default): a random 32-byte vault key, base64, in the OS keyring as
//     service "tokentray", account "vault-<vault id>"; the id is random and sits in the
//     file's plaintext header. The item is created once, after a Get reports it absent,
//     and never overwritten, so a test or demo vault elsewhere cannot clobber the user's.
//     Each keyring call is bounded by Options.KeyringTimeout (10 s): go-keyring has no
//     timeout, and a locked keyring makes it wait for an unlock prompt. On
//     ErrKeyringTimeout, tell the user to look for and answer the unlock prompt (or
//     unlock the keyring) and open again; the stuck call is abandoned in its goroutine.
//   - ModePassphrase: the key is argon2id(passphrase, salt) with RFC 9106's t=3,
//     64 MiB, p=4; salt and parameters are in the header.
//   - ModeMemory: nothing is read or written but the lock; Open logs a warning and adds
//     a notice saying every connection is lost when the process stops.
//
// There is never a silent fallback from one mode to another, least of all to plaintext.
//
// # Failures and what happens to the file
//
//   - no Secret Service, locked keyring, keyring timeout: ErrNoSecretService,
//     ErrKeyringLocked, ErrKeyringTimeout; the file is not touched.
//   - the file exists but the keyring has no (valid) key for it: ErrKeyMissing; the file
//     is not touched. The message names the item and says to restore it or move the file.
//   - a new vault whose random id already has a keyring item: ErrKeyringConflict;
//     the item is not overwritten and no file is written.
//   - wrong passphrase: ErrWrongPassphrase; the file is not touched.
//   - the file was written in the other mode: ErrModeMismatch; the file is not touched.
//   - a newer format version: *NewerVersionError naming the writer; not touched.
//   - corrupt, truncated, or encrypted under another key than the keyring's: the file
//     is renamed aside as "vault.corrupt-<UTC timestamp>", the problem is logged and
//     reported by Notices, and the vault starts empty (under a new id and keyring item,
//     so the old key stays available for recovery). It is never overwritten.
//
// # Security model
//
// Protected: secrets at rest against anyone who can read the disk or a backup but not
// the keyring (or passphrase); secrets in memory against swap, core dumps and casual
// heap inspection; the vault against torn writes (power loss, SIGKILL).
// Not protected: code running as the same user while the vault is open (it can ask the
// keyring, ptrace the process or talk to the agent's socket), nor root.
//
// At rest the file is header ‖ XChaCha20-Poly1305(key, nonce, plaintext, header): the
// whole header (magic, format version, writer, vault id, mode, argon2 parameters, key
// check, fresh random nonce per save) is authenticated, so a swapped id or lowered KDF
// cost fails to open. The key check, the first 16 bytes of SHA-256 over a label and the
// key, lets Open tell a wrong key (wrong passphrase: refused, file kept; wrong keyring
// key: kept aside) from a damaged file without revealing anything the ciphertext does
// not. Keyring items hold only the 44-byte base64 key (Windows caps items at 2560 bytes).
// Writes go to a 0600 temp file in the same 0700 folder, are fsynced, renamed over the
// vault and the folder is fsynced: a crash leaves the old or the new file.
//
// In memory every secret is a memguard Enclave (encrypted under a session key, in
// mlocked, guard-paged memory); memguard also disables core dumps. The serialized
// plaintext is built and parsed only inside LockedBuffers, and decryption writes into
// one. The vault key is opened only to seal or open the file, the device key only to
// sign. Unavoidable Go-heap or string copies, each commented where it happens: the base64
// key passed to and from the keyring API; argon2's output and ed25519's expanded key
// (both moved into enclaves and wiped at once); and, per signature, a Go copy of the
// device key (wiped after the call) whose expansion crypto/ed25519 caches until the next
// garbage collection — Go 1.26's ed25519.Sign cannot take memory outside the Go heap.
// Hot secrets of a live connection may be kept by the caller in a LockedBuffer
// (enclave.Open) to skip the ≈130 µs open per read; destroy it on revoke.
// Close drops everything; the application calls memguard.Purge from its stop path
// (never memguard.CatchInterrupt, which would replace Fyne's signal handling), which
// wipes all LockedBuffers and makes every Enclave unreadable. A failed mlock makes
// memguard panic rather than keep secrets in swappable memory.
//
// No secret, key, passphrase or ciphertext ever goes into an error or a log line; errors
// name entry keys, secret names, keyring item names and paths only.
package vault
