import WebSocket from 'wskit/ws';

const ws = new WebSocket('ws://www.host.com/path', {
  headers: { Authorization: 'Bearer some-token' },
});

ws.on('error', console.error);

ws.on('open', function open() {
  ws.send('something');
});

ws.on('message', function message(data) {
  console.log('received: %s', data);
});
