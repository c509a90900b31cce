package dev.grpckeepalive.transport;

import java.time.Duration;
import java.util.function.LongSupplier;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPipeline;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.connection.ConnectionRecord;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.GracefulClose;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.connection.UserAgentCapture;

/**
 * Watches the HTTP/2 frames of one connection as they pass, in both directions, and feeds
 * PINGs and GOAWAYs into the connection's {@link ConnectionRecord}: PING counts by kind,
 * round-trip times from PING to matching ACK, keepalive timeouts, GOAWAYs with error code
 * and debug data.
 *
 * <p>Passive towards well-behaved peers: it never changes, holds or delays their bytes, and
 * never throws into the pipeline. It sits at the head of the pipeline; on a TLS connection it
 * moves itself to just after the {@link SslHandler} before any HTTP/2 byte flows. If the bytes
 * are not HTTP/2 it switches itself off for that connection, with one WARN, and leaves the
 * connection to grpc-java.
 *
 * <p>A thin handler: it follows the connection through TLS, decodes both directions with an
 * {@link Http2FrameDecoder} each, and hands each frame to the part whose job it is:
 * {@link PingTracker} (outstanding PINGs, round trips, keepalive timeouts),
 * {@link SocketRelease} (after a keepalive timeout grpc-java's close is graceful and can keep
 * the socket for as long as a silent peer does not read: it is made abortive),
 * {@link FrameFloodGuard} and {@link AbuseClose} (server side: a client over a
 * {@link FrameFloodLimits} limit gets GOAWAY {@code ENHANCE_YOUR_CALM} and is closed, close
 * reason {@code abuse}), and {@link KeepAliveEvidence} (for the keepalive advisor).
 *
 * <p><b>Time.</b> The ticker is read once per event, and every part is given that time:
 * <ul>
 * <li>a read ({@code channelRead}): once, at its start; every frame decoded from it, and
 * every frame written or flushed while it runs, has the read's time;
 * <li>writes outside a read: once, at the first frame that needs a time (a server's HEADERS
 * or DATA, a RST_STREAM, a GOAWAY with a keepalive PING outstanding), shared by the frames of
 * the following writes and by the flush that sends them;
 * <li>a flush outside a read whose writes needed no time: once, if anything was written;
 * <li>the channel going inactive: once, if a keepalive PING is outstanding.
 * </ul>
 * A PING counts as sent at the flush that sends it, so a round trip is measured between two
 * ticker reads in that order and is never negative (and is clamped at 0 regardless).
 */
final class FrameObserver extends ChannelDuplexHandler implements Http2FrameDecoder.Listener, GracefulClose {

	static final String NAME = "grpcKeepaliveFrameObserver";

	private static final Log logger = LogFactory.getLog(FrameObserver.class);

	private static final byte TLS_HANDSHAKE_RECORD = 0x16;

	/** How long grpc-java gets to close a connection itself after its keepalive timeout GOAWAY. */
	static final Duration KEEPALIVE_TIMEOUT_CLOSE_DELAY = SocketRelease.CLOSE_DELAY;

	/** How long a client closed for abuse gets to read its GOAWAY before the connection is reset. */
	static final Duration ABUSE_CLOSE_DELAY = AbuseClose.CLOSE_DELAY;

	private final ObserverSettings settings;

	private final Http2FrameDecoder inbound;

	private final Http2FrameDecoder outbound;

	/** The server's frame-flood limits for this connection, or {@code null} (client side, or all off). */
	private final @Nullable FrameFloodGuard floodGuard;

	/** What the frames say about keepalive, for the advisor. */
	private final KeepAliveEvidence evidence;

	private final PingTracker pings = new PingTracker();

	private @Nullable ConnectionRecord record;

	private @Nullable ChannelHandlerContext context;

	/** The buffer the inbound decoder is decoding, for the rewrite of an ignored reset; never retained. */
	private @Nullable ByteBuf decoding;

	/** When the current event happened, valid while {@link #timeRead}. Event loop only. */
	private long eventNanos;

	/**
	 * The highest stream the client opened (server side): resets above it are ignored, an abuse
	 * GOAWAY names it, the flood guard's premature-reset rule watches it. Event loop only.
	 */
	private int highestClientStream;

	/** {@link #eventNanos} holds the current event's time. */
	private boolean timeRead;

	/** A {@code channelRead} is running: writes and flushes inside it have its time. */
	private boolean inRead;

	/** An abuse limit closed the connection: what the client still sends is dropped. */
	private boolean closingForAbuse;

	private boolean firstBytesChecked;

	/** Bytes were written since the last flush. Event loop only. */
	private boolean written;

	private boolean off;

	FrameObserver(ConnectionTracker tracker, boolean serverSide, Duration keepAliveTimeout, LongSupplier ticker) {
		this(tracker, serverSide, keepAliveTimeout, ticker, null);
	}

	/**
	 * An observer for one new connection, with settings of its own (tests).
	 * @param floodLimits the server's frame-flood limits, enforced on what the client sends, or
	 * {@code null} for none (always on the client side)
	 */
	FrameObserver(ConnectionTracker tracker, boolean serverSide, Duration keepAliveTimeout, LongSupplier ticker,
			@Nullable FrameFloodLimits floodLimits) {
		this(new ObserverSettings(tracker, serverSide, keepAliveTimeout, ticker, floodLimits));
	}

	/** An observer for one new connection, with the settings shared by all of a server's or channels' connections. */
	FrameObserver(ObserverSettings settings) {
		this(settings, null, null, false);
	}

	private FrameObserver(ObserverSettings settings, @Nullable ConnectionRecord record,
			@Nullable KeepAliveEvidence evidence, boolean afterTls) {
		this.settings = settings;
		FrameFloodLimits floodLimits = settings.floodLimits();
		this.floodGuard = (floodLimits != null) ? floodLimits.newGuard() : null;
		this.record = record;
		this.evidence = (evidence != null) ? evidence : new KeepAliveEvidence(settings.ticker().getAsLong());
		this.firstBytesChecked = afterTls;
		this.inbound = new Http2FrameDecoder(this, settings.serverSide());
		this.outbound = new Http2FrameDecoder(this, !settings.serverSide());
		Http2FrameDecoder.pair(this.inbound, this.outbound);
	}

	@Override
	public void handlerAdded(ChannelHandlerContext ctx) {
		this.context = ctx;
		if (this.record == null && ctx.channel().isActive()) {
			open(ctx);
		}
	}

	@Override
	public void channelActive(ChannelHandlerContext ctx) throws Exception {
		if (this.record == null) {
			open(ctx);
		}
		super.channelActive(ctx);
	}

	private void open(ChannelHandlerContext ctx) {
		ConnectionRecord opened = this.settings.tracker().connectionOpened(ctx.channel().remoteAddress(),
				ctx.channel().localAddress());
		this.record = opened;
		opened.observed();
		// the evidence itself, not a lambda around it: one object less per connection
		opened.silenceProbe(this.evidence);
		if (this.settings.serverSide()) {
			// this observer, not a lambda: nothing more per connection
			opened.closableBy(this);
		}
	}

	/** An operator drains the connection: grpc-java's graceful close, see {@link GracefulDrain}. */
	@Override
	public void start(Duration grace) {
		ChannelHandlerContext ctx = this.context;
		if (ctx != null) {
			GracefulDrain.start(ctx.channel(), grace);
		}
	}

	@Override
	public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
		boolean outer = !this.inRead;
		try {
			if (!this.off && msg instanceof ByteBuf buffer) {
				// the one ticker read of this read: the evidence, every frame decoded and every write inside it
				long now = this.settings.ticker().getAsLong();
				this.eventNanos = now;
				this.timeRead = true;
				this.inRead = true;
				this.evidence.inbound(this.record, now);
				this.decoding = buffer;
				try {
					observe(ctx, buffer, this.inbound, this.settings.serverSide());
				}
				finally {
					this.decoding = null;
				}
			}
			if (this.closingForAbuse) {
				// the flood that broke a limit goes no further than this observer
				ReferenceCountUtil.release(msg);
				return;
			}
			ConnectionRecord current = this.record;
			if (this.settings.serverSide() && current != null && !current.isUserAgentKnown()) {
				// grpc-java creates its stream tracers inside this call: UserAgentCapture reads the user agent there
				UserAgentCapture.reading(current);
				try {
					ctx.fireChannelRead(msg);
				}
				finally {
					UserAgentCapture.reading(null);
				}
				return;
			}
			ctx.fireChannelRead(msg);
		}
		finally {
			if (outer && this.inRead) {
				// the read is over: what comes next is another event, with a time of its own
				this.inRead = false;
				this.timeRead = false;
			}
		}
	}

	@Override
	public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
		if (!this.off && msg instanceof ByteBuf buffer) {
			this.written |= buffer.isReadable();
			observe(ctx, buffer, this.outbound, !this.settings.serverSide());
		}
		ctx.write(msg, promise);
	}

	/** Frames leave at the flush: the PINGs written since the last one count as sent now, and the evidence notes the write. */
	@Override
	public void flush(ChannelHandlerContext ctx) throws Exception {
		ConnectionRecord current = this.record;
		if (this.written && current != null && !this.off) {
			this.written = false;
			long now = now();
			if (this.pings.flushed(now)) {
				this.evidence.keepAlivePingSent(current, now);
			}
			this.evidence.outbound(current, now);
		}
		if (!this.inRead) {
			// the writes and their flush are over: the next write is another event
			this.timeRead = false;
		}
		ctx.flush();
	}

	/** The time of the current event: the ticker is read at the event's first need, then reused. */
	private long now() {
		if (!this.timeRead) {
			this.eventNanos = this.settings.ticker().getAsLong();
			this.timeRead = true;
		}
		return this.eventNanos;
	}

	private void observe(ChannelHandlerContext ctx, ByteBuf buffer, Http2FrameDecoder decoder, boolean clientBytes) {
		try {
			if (!this.firstBytesChecked && clientBytes && buffer.isReadable()) {
				this.firstBytesChecked = true;
				if (buffer.getByte(buffer.readerIndex()) == TLS_HANDSHAKE_RECORD && moveAfterTls(ctx)) {
					return;
				}
			}
			decoder.decode(buffer);
		}
		catch (MalformedBytes ex) {
			switchOff(ctx, ex.reason());
		}
		catch (RuntimeException ex) {
			switchOff(ctx, "observer failure: " + ex);
		}
	}

	/** Moves the observer behind the SslHandler, where the bytes are plain HTTP/2. */
	private boolean moveAfterTls(ChannelHandlerContext ctx) {
		ChannelPipeline pipeline = ctx.pipeline();
		ChannelHandlerContext tls = pipeline.context(SslHandler.class);
		if (tls == null) {
			return false;
		}
		this.off = true;
		pipeline.addAfter(tls.name(), NAME + "Tls", new FrameObserver(this.settings, this.record, this.evidence, true));
		pipeline.remove(this);
		return true;
	}

	/**
	 * This side closes the connection. A server that closes a connection whose client never
	 * completed the HTTP/2 handshake (preface and SETTINGS) has given up on it: grpc-java's
	 * handshake timeout, typically, after which it closes with at most a plain GOAWAY
	 * NO_ERROR. Without this the close would be inferred as {@code peer_closed}.
	 */
	@Override
	public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
		ConnectionRecord current = this.record;
		if (current != null && this.settings.serverSide() && !this.inbound.isSettingsSeen()) {
			current.closedBeforeHandshake();
		}
		ctx.close(promise);
	}

	@Override
	public void channelInactive(ChannelHandlerContext ctx) throws Exception {
		ConnectionRecord current = this.record;
		if (current != null) {
			try {
				// an event of its own: a fresh time, read only when a keepalive PING could be overdue
				if (!this.off && this.pings.keepAliveOutstanding() && this.pings
					.keepAliveOverdue(this.settings.ticker().getAsLong(), this.settings.keepAliveOverdueNanos())) {
					current.keepAliveTimedOut();
				}
				current.close();
			}
			catch (RuntimeException ex) {
				// A failing connection listener (a meter) must not keep the end of the connection from grpc-java.
				logger.warn("Recording the close of connection " + current.displayId() + " failed", ex);
			}
		}
		super.channelInactive(ctx);
	}

	@Override
	public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
		if (this.record != null) {
			this.record.errorSeen();
		}
		super.exceptionCaught(ctx, cause);
	}

	private void switchOff(ChannelHandlerContext ctx, String reason) {
		if (this.off) {
			return;
		}
		this.off = true;
		ConnectionRecord current = this.record;
		String id = (current != null) ? current.displayId() : "?";
		logger.warn("HTTP/2 frame observer off for connection " + id + " (" + ctx.channel().remoteAddress() + "): "
				+ reason + "; the connection is left to grpc-java");
		if (current != null) {
			current.observerOff(reason);
		}
	}

	// Frames, from the decoders: inbound are the frames this side read, outbound those it wrote.

	@Override
	public void onPing(Http2FrameDecoder from, boolean ack, long payload) {
		ConnectionRecord current = this.record;
		if (current == null) {
			return;
		}
		PingKind kind = PingKind.of(payload);
		if (from == this.outbound) {
			if (!ack) {
				current.pingSent(kind);
				this.pings.written(kind);
			}
			return;
		}
		if (!ack) {
			current.pingReceived();
			if (this.settings.serverSide()) {
				this.evidence.peerPing(current, this.settings.tracker(), kind, now());
			}
			return;
		}
		long roundTrip = this.pings.acked(kind, now());
		if (roundTrip != PingTracker.NONE) {
			current.pingAcked(kind, roundTrip);
		}
		else if (this.floodGuard != null) {
			verdict(this.floodGuard.unsolicitedPingAck(now()));
		}
	}

	@Override
	public void onFrame(Http2FrameDecoder from, int type, int flags, int length, int streamId) {
		if (!this.settings.serverSide()) {
			return;
		}
		FrameFloodGuard guard = this.floodGuard;
		if (from == this.outbound) {
			if (type == Http2FrameDecoder.TYPE_HEADERS || type == Http2FrameDecoder.TYPE_DATA) {
				this.evidence.headersOrDataSent(now(), type == Http2FrameDecoder.TYPE_DATA);
			}
			if (guard != null) {
				guard.outbound(type, flags, streamId, this.highestClientStream);
			}
			return;
		}
		int previous = this.highestClientStream;
		if (type == Http2FrameDecoder.TYPE_HEADERS && streamId > previous) {
			this.highestClientStream = streamId;
		}
		else if (ignoredReset(type, streamId)) {
			return;
		}
		if (guard != null) {
			verdict(guard.inbound(type, flags, length, streamId, previous, now()));
		}
	}

	/**
	 * Has a RST_STREAM from the client for a stream it never opened (stream 0, or above the
	 * highest) ignored: RFC 9113 makes it a connection error, and Netty closes the connection
	 * for it, failing every call on it, although the client only gave up on a stream the
	 * server never saw. HAProxy 2.6 and gRPC C-core 1.51 do this under load (docs/interop.md).
	 * @return whether the frame was turned into one the server ignores
	 */
	private boolean ignoredReset(int type, int streamId) {
		ByteBuf buffer = this.decoding;
		if (type != Http2FrameDecoder.TYPE_RST_STREAM || (streamId != 0 && streamId <= this.highestClientStream)
				|| buffer == null || !this.inbound.ignoreCurrentFrame(buffer)) {
			return false;
		}
		ConnectionRecord current = this.record;
		ChannelHandlerContext ctx = this.context;
		AbuseLog.ignoredReset(streamId, (current != null) ? current.displayId() : "?",
				(ctx != null) ? ctx.channel().remoteAddress() : null);
		return true;
	}

	@Override
	public void onRstStream(Http2FrameDecoder from, int streamId, long errorCode) {
		FrameFloodGuard guard = this.floodGuard;
		if (from == this.outbound && guard != null) {
			// a stream the server refused counts as the client's premature reset
			verdict(guard.resetSent(streamId, errorCode, this.highestClientStream, now()));
		}
	}

	@Override
	public void onGoAway(Http2FrameDecoder from, long errorCode, String debugData) {
		ConnectionRecord current = this.record;
		if (current == null) {
			return;
		}
		if (from == this.inbound) {
			current.goAwayReceived(errorCode, debugData);
			return;
		}
		boolean overdue = this.pings.keepAliveOutstanding()
				&& this.pings.keepAliveOverdue(now(), this.settings.keepAliveOverdueNanos());
		if (overdue) {
			this.pings.keepAliveTimeoutCounted();
			current.keepAliveTimedOut();
			ChannelHandlerContext ctx = this.context;
			if (ctx != null) {
				SocketRelease.afterKeepAliveTimeout(ctx.channel(), current);
			}
		}
		current.goAwaySent(errorCode, debugData, overdue);
	}

	@Override
	public void onMalformed(Http2FrameDecoder from, String reason) {
		throw new MalformedBytes(reason);
	}

	/** A flood guard's verdict: a limit broken closes the connection, once. */
	private void verdict(@Nullable String brokenLimit) {
		ChannelHandlerContext ctx = this.context;
		if (brokenLimit == null || this.closingForAbuse || ctx == null) {
			return;
		}
		this.closingForAbuse = true;
		this.inbound.stop();
		AbuseClose.close(ctx, this.record, brokenLimit, this.highestClientStream);
	}

	/** Unwinds the decoder to {@link #observe}, which switches the observer off. */
	private static final class MalformedBytes extends RuntimeException {

		private static final long serialVersionUID = 1L;

		private final String reason;

		MalformedBytes(String reason) {
			super(reason, null, false, false);
			this.reason = reason;
		}

		String reason() {
			return this.reason;
		}

		@Override
		public String toString() {
			return this.reason;
		}

	}

}
