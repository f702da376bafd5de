package appid

// Supported reports whether this system can identify apps: here it reads
// the peer's pidfd and /proc.
const Supported = true
