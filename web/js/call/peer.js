// One RTCPeerConnection to one other member, negotiated with the "perfect
// negotiation" pattern: either side may offer at any time (adding a track,
// an ICE restart); when both offer at once, the polite side rolls back and
// answers, the impolite side ignores the other's offer. The two sides agree
// on who is polite without talking (see call.js), so glare cannot deadlock.
//
// Glare is still avoided where it is easy: when someone joins, the members
// already in the call offer and the newcomer waits for their offers
// (`waitForOffer`), adding its tracks to the transceivers the offer made.
// That matters in practice: a rolled-back offer can leave Chromium without
// local candidates for the answer that follows, so a watchdog restarts ICE
// when a negotiated connection does not come up.

const WAIT_OFFER_MS = 3000;   // newcomer: offer ourselves if nobody did by then
const WATCHDOG_MS = 5000;     // a negotiated connection should be up by then
const MAX_RESTARTS = 5;

export class Peer {
  // opts: { id, polite, waitForOffer, iceServers, stream, send(msg), onTrack(stream), onState(state), onMessage(data) }
  constructor(opts) {
    this.id = opts.id;
    this.polite = opts.polite;
    this.send = opts.send;
    this.opts = opts;
    this.stream = opts.stream;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.closed = false;
    this.queue = Promise.resolve();   // signals are applied one at a time, in order
    this.remote = new MediaStream();
    this.restarts = 0;
    this.channel = null;
    this.tracksAdded = false;

    const pc = new RTCPeerConnection({ iceServers: opts.iceServers || [] });
    this.pc = pc;
    pc.ondatachannel = ({ channel }) => this.attach(channel);
    if (opts.waitForOffer) {
      this.waitTimer = setTimeout(() => this.addTracks(true), WAIT_OFFER_MS);
    } else {
      this.addTracks(true);
    }

    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();   // an offer (or an ICE-restart offer)
        if (!this.closed) this.send({ description: pc.localDescription.toJSON() });
      } catch (err) {
        console.warn('yoom call: offer failed', err);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      // The end-of-candidates null is not needed: browsers cope without it.
      if (candidate && !this.closed) this.send({ candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] || this.remote;
      if (!streams[0]) this.remote.addTrack(track);
      this.remote = stream;
      opts.onTrack?.(stream);
    };
    pc.oniceconnectionstatechange = () => {
      // A path that stopped working (network change, NAT timeout): new
      // candidates on both sides. One side restarts, so restarts never collide.
      if (pc.iceConnectionState === 'failed') this.restart();
      opts.onState?.(this.state());
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') this.restart();
      opts.onState?.(this.state());
    };
    this.watchdog = setInterval(() => {
      const s = pc.connectionState;
      if ((s === 'new' || s === 'connecting') && pc.signalingState === 'stable' && pc.remoteDescription) this.restart();
    }, WATCHDOG_MS);
  }

  // Our tracks (and, from the side that does not wait, the data channel).
  // With withChannel and no channel yet, this side opens one.
  addTracks(withChannel) {
    clearTimeout(this.waitTimer);
    if (this.closed || this.tracksAdded) return;
    this.tracksAdded = true;
    for (const track of this.stream.getTracks()) {
      // Reuse a transceiver of the same kind the other side's offer created.
      const t = this.pc.getTransceivers().find((x) => !x.stopped && x.receiver.track.kind === track.kind &&
        !x.sender.track && x.direction === 'recvonly');
      if (t) {
        t.sender.replaceTrack(track);
        t.sender.setStreams?.(this.stream);
        t.direction = 'sendrecv';
      } else {
        this.pc.addTrack(track, this.stream);
      }
    }
    if (withChannel && !this.channel) this.attach(this.pc.createDataChannel('yoom', { ordered: true }));
  }

  restart() {
    if (this.closed || this.polite || this.restarts >= MAX_RESTARTS) return;
    this.restarts++;
    this.pc.restartIce();
  }

  attach(channel) {
    channel.binaryType = 'arraybuffer';
    channel.onmessage = (e) => this.opts.onMessage?.(e.data);
    channel.onopen = () => this.opts.onState?.(this.state());
    // The first channel sends; a second one (both sides opened one because
    // no offer came in time) still delivers.
    if (!this.channel || this.channel.readyState === 'closed') this.channel = channel;
  }

  // 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed'
  state() {
    const s = this.pc.connectionState;
    if (this.closed || s === 'closed') return 'closed';
    if (s === 'connected') return 'connected';
    if (s === 'failed') return 'failed';
    if (s === 'disconnected' || this.pc.iceConnectionState === 'disconnected') return 'reconnecting';
    return 'connecting';
  }

  // A description or candidate from the other side (via the server).
  signal(msg) {
    this.queue = this.queue.then(() => this.apply(msg)).catch((err) => console.warn('yoom call: signal failed', err));
    return this.queue;
  }

  async apply({ description, candidate }) {
    if (this.closed) return;
    const pc = this.pc;
    if (description) {
      const collision = description.type === 'offer' && (this.makingOffer || pc.signalingState !== 'stable');
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      // On a collision the polite side's setRemoteDescription rolls its own offer back implicitly.
      await pc.setRemoteDescription(description);
      if (description.type === 'offer') {
        // The newcomer's tracks ride on the offer's transceivers: no second round.
        if (!this.tracksAdded) this.addTracks(false);
        await pc.setLocalDescription();
        this.send({ description: pc.localDescription.toJSON() });
      }
    } else if (candidate) {
      try {
        await pc.addIceCandidate(candidate);
      } catch (err) {
        // Candidates of an offer we ignored belong to nothing: expected.
        if (!this.ignoreOffer) throw err;
      }
    }
  }

  // Replaces what this side sends of kind ('audio' | 'video') without
  // renegotiating; adds a sender (one renegotiation) only if there was none.
  async setTrack(kind, track, stream) {
    const t = this.pc.getTransceivers().find((x) => !x.stopped && x.receiver.track.kind === kind &&
      (x.sender.track || x.direction === 'sendrecv' || x.direction === 'sendonly'));
    if (t) await t.sender.replaceTrack(track);
    else if (track && this.tracksAdded) this.pc.addTrack(track, stream);
  }

  // Sends on the data channel if it is open; returns whether it did.
  post(data) {
    if (this.channel?.readyState !== 'open') return false;
    this.channel.send(data);
    return true;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.waitTimer);
    clearInterval(this.watchdog);
    try { this.channel?.close(); } catch { /* already closed */ }
    this.pc.close();
  }
}
