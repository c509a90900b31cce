package dev.grpckeepalive.transport;

import org.jspecify.annotations.Nullable;

/**
 * Counts, for one server connection, the frames that {@link FrameFloodLimits} bound, and
 * says which limit a frame broke. Used by the frame observer on the connection's event loop
 * only: plain fields, no locks, no allocation after the guard's own. The highest stream the
 * client opened is the observer's, passed in (one field, not a copy in each).
 *
 * <p>Each rule draws its line differently, after what legitimate peers send:
 * <ul>
 * <li>Unsolicited PING ACKs, SETTINGS: a count per fixed window that starts with the first
 * frame counted after the previous window ended, as grpc-java's reset limit does.
 * <li>Empty frames: a run of consecutive DATA, HEADERS or CONTINUATION frames without
 * payload and without END_STREAM; any such frame with payload (or END_STREAM) ends the run.
 * <li>WINDOW_UPDATE: a credit over the connection's life. It starts at the base and grows by
 * the ratio for each stream the client opens and each DATA or SETTINGS frame the server
 * sends: what a peer's flow control may legitimately answer. Each WINDOW_UPDATE spends one.
 * <li>Premature resets: per window, RST_STREAM frames from the client for the stream it opened
 * last, before the server answered or ended it and less than {@link #PREMATURE_NANOS} after it
 * opened, and streams the server refused. Rapid reset resets each stream at once, before it
 * opens the next; a deadline or a user's cancel comes later, and a client with calls in flight
 * (a deadline storm) has opened others meanwhile, even when a pause of the server makes their
 * frames arrive together. Every other reset is left to grpc-java's {@code max-rst-frames}.
 * </ul>
 */
final class FrameFloodGuard {

	/** Limit name of {@link FrameFloodLimits#maxUnsolicitedPingAcks()}. */
	public static final String UNSOLICITED_PING_ACKS = "max-unsolicited-ping-acks";

	/** Limit name of {@link FrameFloodLimits#maxSettingsFrames()}. */
	public static final String SETTINGS_FRAMES = "max-settings-frames";

	/** Limit name of {@link FrameFloodLimits#maxConsecutiveEmptyFrames()}. */
	public static final String CONSECUTIVE_EMPTY_FRAMES = "max-consecutive-empty-frames";

	/** Limit name of {@link FrameFloodLimits#maxWindowUpdateFrames()}. */
	public static final String WINDOW_UPDATE_FRAMES = "max-window-update-frames";

	/** Limit name of {@link FrameFloodLimits#maxPrematureResets()}. */
	public static final String PREMATURE_RESETS = "max-premature-resets";

	/** A reset of an unanswered stream younger than this is premature: no deadline or user is that quick. */
	static final long PREMATURE_NANOS = 1_000_000;



	static final int TYPE_DATA = 0x0;

	static final int TYPE_HEADERS = 0x1;

	static final int TYPE_RST_STREAM = 0x3;

	static final int TYPE_SETTINGS = 0x4;

	static final int TYPE_WINDOW_UPDATE = 0x8;

	static final int TYPE_CONTINUATION = 0x9;

	static final int FLAG_END_STREAM = 0x1;

	static final int FLAG_ACK = 0x1;

	static final long REFUSED_STREAM = 0x7;

	static final long CANCEL = 0x8;

	private final FrameFloodLimits limits;

	/** No window started yet; a ticker value nothing reads in practice (one field instead of a flag and a time). */
	private static final long NO_WINDOW = Long.MIN_VALUE;

	private long windowStart = NO_WINDOW;

	private int unsolicitedPingAcks;

	private int settingsFrames;

	private int prematureResets;

	private int consecutiveEmptyFrames;

	/**
	 * WINDOW_UPDATE frames the client may still send; below zero it broke the limit. An
	 * {@code int} that stops growing at its maximum: no client sends two billion WINDOW_UPDATEs.
	 */
	private int windowUpdateCredit;

	/** When the client opened the last (highest) stream it opened. */
	private long lastStreamOpenedAt;

	/** The server answered (HEADERS) or ended (RST_STREAM) the client's last stream, or it was reset once already. */
	private boolean lastStreamAnswered;

	FrameFloodGuard(FrameFloodLimits limits) {
		this.limits = limits;
		this.windowUpdateCredit = limits.maxWindowUpdateFrames();
	}

	/** Whether premature resets are bounded. */
	private boolean resetsBounded() {
		return this.limits.maxPrematureResets() != FrameFloodLimits.OFF;
	}

	/**
	 * A frame arrived from the client (its header: the payload may still be on its way).
	 * @param type the frame type
	 * @param flags the frame flags
	 * @param length the payload length
	 * @param streamId the stream identifier
	 * @param lastClientStream the highest stream the client opened before this frame: a HEADERS
	 * above it opens a stream, a reset of it may be premature
	 * @param nanos the ticker now
	 * @return the limit it broke, or {@code null}
	 */
	public @Nullable String inbound(int type, int flags, int length, int streamId, int lastClientStream, long nanos) {
		switch (type) {
			case TYPE_DATA, TYPE_HEADERS, TYPE_CONTINUATION -> {
				if (type == TYPE_HEADERS && streamId > lastClientStream) {
					streamOpened(nanos);
				}
				return emptyFrame(type, flags, length);
			}
			case TYPE_WINDOW_UPDATE -> {
				return (this.limits.maxWindowUpdateFrames() != FrameFloodLimits.OFF && --this.windowUpdateCredit < 0)
						? WINDOW_UPDATE_FRAMES : null;
			}
			case TYPE_RST_STREAM -> {
				if (resetsBounded() && streamId == lastClientStream && isPremature(nanos)) {
					this.lastStreamAnswered = true;
					return prematureReset(nanos);
				}
				return null;
			}
			case TYPE_SETTINGS -> {
				if ((flags & FLAG_ACK) == 0 && this.limits.maxSettingsFrames() != FrameFloodLimits.OFF) {
					roll(nanos);
					return (++this.settingsFrames > this.limits.maxSettingsFrames()) ? SETTINGS_FRAMES : null;
				}
				return null;
			}
			default -> {
				return null;
			}
		}
	}

	/**
	 * A frame the server sent (its header).
	 * @param type the frame type
	 * @param flags the frame flags
	 * @param streamId the stream identifier
	 * @param lastClientStream the highest stream the client opened
	 */
	public void outbound(int type, int flags, int streamId, int lastClientStream) {
		switch (type) {
			case TYPE_DATA, TYPE_HEADERS -> {
				if (type == TYPE_DATA) {
					earnWindowUpdates();
				}
				answered(streamId, lastClientStream);
			}
			case TYPE_SETTINGS -> {
				if ((flags & FLAG_ACK) == 0) {
					earnWindowUpdates();
				}
			}
			default -> {
				// RST_STREAM comes with its error code, in resetSent
			}
		}
	}

	/**
	 * The server reset a stream.
	 * @param streamId the stream
	 * @param errorCode the RST_STREAM error code
	 * @param lastClientStream the highest stream the client opened
	 * @param nanos the ticker now
	 * @return the limit it broke, or {@code null}
	 */
	public @Nullable String resetSent(int streamId, long errorCode, int lastClientStream, long nanos) {
		if (!resetsBounded()) {
			return null;
		}
		answered(streamId, lastClientStream);
		// a stream over the concurrency limit, opened by the client and refused at once, counts;
		// a stream the server ended itself (its own deadline, typically) does not: a reset crossing it is no abuse
		return (errorCode == REFUSED_STREAM) ? prematureReset(nanos) : null;
	}

	/**
	 * The client acknowledged a PING the server never sent (or acknowledged one twice).
	 * @param nanos the ticker now
	 * @return the limit it broke, or {@code null}
	 */
	public @Nullable String unsolicitedPingAck(long nanos) {
		if (this.limits.maxUnsolicitedPingAcks() == FrameFloodLimits.OFF) {
			return null;
		}
		roll(nanos);
		return (++this.unsolicitedPingAcks > this.limits.maxUnsolicitedPingAcks()) ? UNSOLICITED_PING_ACKS : null;
	}

	private void streamOpened(long nanos) {
		this.lastStreamOpenedAt = nanos;
		this.lastStreamAnswered = false;
		earnWindowUpdates();
	}

	private @Nullable String emptyFrame(int type, int flags, int length) {
		if (this.limits.maxConsecutiveEmptyFrames() == FrameFloodLimits.OFF) {
			return null;
		}
		if (length != 0 || (type != TYPE_CONTINUATION && (flags & FLAG_END_STREAM) != 0)) {
			this.consecutiveEmptyFrames = 0;
			return null;
		}
		return (++this.consecutiveEmptyFrames > this.limits.maxConsecutiveEmptyFrames()) ? CONSECUTIVE_EMPTY_FRAMES
				: null;
	}

	private void earnWindowUpdates() {
		this.windowUpdateCredit = (int) Math.min(Integer.MAX_VALUE,
				(long) this.windowUpdateCredit + this.limits.windowUpdateRatio());
	}

	private @Nullable String prematureReset(long nanos) {
		roll(nanos);
		return (++this.prematureResets > this.limits.maxPrematureResets()) ? PREMATURE_RESETS : null;
	}

	/** Whether a reset of the client's last stream, now, is premature. */
	private boolean isPremature(long nanos) {
		return !this.lastStreamAnswered && nanos - this.lastStreamOpenedAt < PREMATURE_NANOS;
	}

	private void answered(int streamId, int lastClientStream) {
		if (streamId == lastClientStream) {
			this.lastStreamAnswered = true;
		}
	}

	private void roll(long nanos) {
		if (this.windowStart == NO_WINDOW || nanos - this.windowStart >= this.limits.windowNanos()) {
			this.windowStart = nanos;
			this.unsolicitedPingAcks = 0;
			this.settingsFrames = 0;
			this.prematureResets = 0;
		}
	}

}
