#!/usr/bin/env node
// The wskit command. Until the full command line lands, it runs the local echo demo:
// a wskit server and client on 127.0.0.1 exchanging messages.
import '../examples/echo.mjs';
