package devstack

// BotPy is a Python script that asks the agent for a connection's key as a
// trading script would: a raw HTTP request on the Unix socket argv[1] for
// connection argv[2]; the answer, status line and body, on stdout.
const BotPy = `import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(("GET /v1/connections/%s/token HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n" % sys.argv[2]).encode())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
`
