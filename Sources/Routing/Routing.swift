// The Routing module: Calico's BGP speaker.
//
// - BGP/Wire: the message and attribute codec (RFC 4271, 4760, 5492, 6793, 7606, 8203, 8654).
//   Values in, values out; decoding errors are the NOTIFICATION to send.
// - BGP/Session: the RFC 4271 section 8 state machine (events in, actions out), OPEN
//   negotiation, collision detection and graceful restart bookkeeping.
// Sockets and timers that drive them live beside these, never inside.
public enum RoutingModule { public static let name = "Routing" }
