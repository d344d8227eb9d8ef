// A raw WebSocket relay on Deno.serve: the baseline for bench/messaging_load.ts. Every binary
// message a socket sends is forwarded unchanged to every other socket of the same path; on paths
// that start with /echo it is also sent back to the sender (standing in for the `__response__`
// the room protocol answers every request with). Prints the port on stdout, then runs until
// killed.
const rooms = new Map<string, Set<WebSocket>>();
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
  const path = new URL(req.url).pathname;
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.binaryType = "arraybuffer";
  let peers = rooms.get(path);
  if (!peers) rooms.set(path, peers = new Set());
  const room = peers;
  socket.onopen = () => room.add(socket);
  const echo = path.startsWith("/echo");
  socket.onmessage = (e) => {
    for (const peer of room) if (peer !== socket && peer.readyState === 1) peer.send(e.data);
    if (echo) socket.send(e.data);
  };
  socket.onclose = () => room.delete(socket);
  return response;
});
console.log(server.addr.port);
