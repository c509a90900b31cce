package dev.grpckeepalive.limits;

import org.jspecify.annotations.Nullable;

/**
 * Counts, for one server connection, the frames that {@link FrameFloodLimits} bound, and
 * says which limit a frame broke. Used by the frame observer on the connection's event loop
 * only: plain fields, no locks, no allocation after the guard's own.
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
 * <li>Unanswered resets: per window, RST_STREAM frames from the client on streams the server
 * had neither answered nor ended, and streams the server refused, beyond the floor plus the
 * ratio times the calls the server ended in the window.
 * </ul>
 */
public final class FrameFloodGuard {

	/** Limit name of {@link FrameFloodLimits#maxUnsolicitedPingAcks()}. */
	public static final String UNSOLICITED_PING_ACKS = "max-unsolicited-ping-acks";

	/** Limit name of {@link FrameFloodLimits#maxSettingsFrames()}. */
	public static final String SETTINGS_FRAMES = "max-settings-frames";

	/** Limit name of {@link FrameFloodLimits#maxConsecutiveEmptyFrames()}. */
	public static final String CONSECUTIVE_EMPTY_FRAMES = "max-consecutive-empty-frames";

	/** Limit name of {@link FrameFloodLimits#maxWindowUpdateFrames()}. */
	public static final String WINDOW_UPDATE_FRAMES = "max-window-update-frames";

	/** Limit name of {@link FrameFloodLimits#maxUnansweredResets()}. */
	public static final String UNANSWERED_RESETS = "max-unanswered-resets";

	static final int TYPE_DATA = 0x0;

	static final int TYPE_HEADERS = 0x1;

	static final int TYPE_RST_STREAM = 0x3;

	static final int TYPE_SETTINGS = 0x4;

	static final int TYPE_WINDOW_UPDATE = 0x8;

	static final int TYPE_CONTINUATION = 0x9;

	static final int FLAG_END_STREAM = 0x1;

	static final int FLAG_ACK = 0x1;

	static final long NO_ERROR = 0x0;

	static final long REFUSED_STREAM = 0x7;

	static final long CANCEL = 0x8;

	/**
	 * Streams whose answered state is kept, in a ring by stream id: a stream's bit is reused
	 * once this many newer streams opened, after which a reset of it counts as unanswered.
	 */
	static final int ANSWERED_RING = 1024;

	private static final long[] NO_RING = new long[0];

	private final FrameFloodLimits limits;

	/** Whether unanswered resets are bounded: only then are streams' answers tracked. */
	private final boolean resetsBounded;

	/** Bit per ring slot: the server answered or ended the stream in that slot. Empty when resets are not bounded. */
	private final long[] answered;

	private boolean windowStarted;

	private long windowStart;

	private int unsolicitedPingAcks;

	private int settingsFrames;

	private int unansweredResets;

	private long callsEnded;

	private int consecutiveEmptyFrames;

	/** WINDOW_UPDATE frames the client may still send; below zero it broke the limit. */
	private long windowUpdateCredit;

	/** The highest stream the client opened. */
	private int lastClientStream;

	FrameFloodGuard(FrameFloodLimits limits) {
		this.limits = limits;
		this.windowUpdateCredit = limits.maxWindowUpdateFrames();
		this.resetsBounded = limits.maxUnansweredResets() != FrameFloodLimits.OFF;
		this.answered = this.resetsBounded ? new long[ANSWERED_RING / 64] : NO_RING;
	}

	/** The highest stream the client opened, for the last-stream-id of a GOAWAY. */
	public int lastClientStream() {
		return this.lastClientStream;
	}

	/**
	 * A frame arrived from the client (its header: the payload may still be on its way).
	 * @param type the frame type
	 * @param flags the frame flags
	 * @param length the payload length
	 * @param streamId the stream identifier
	 * @param nanos the ticker now
	 * @return the limit it broke, or {@code null}
	 */
	public @Nullable String inbound(int type, int flags, int length, int streamId, long nanos) {
		switch (type) {
			case TYPE_DATA, TYPE_HEADERS, TYPE_CONTINUATION -> {
				if (type == TYPE_HEADERS && streamId > this.lastClientStream) {
					streamOpened(streamId);
				}
				return emptyFrame(type, flags, length);
			}
			case TYPE_WINDOW_UPDATE -> {
				return (this.limits.maxWindowUpdateFrames() != FrameFloodLimits.OFF && --this.windowUpdateCredit < 0)
						? WINDOW_UPDATE_FRAMES : null;
			}
			case TYPE_RST_STREAM -> {
				return (this.resetsBounded && !isAnswered(streamId)) ? unansweredReset(streamId, nanos) : null;
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
	 * @param nanos the ticker now
	 */
	public void outbound(int type, int flags, int streamId, long nanos) {
		switch (type) {
			case TYPE_DATA, TYPE_HEADERS -> {
				if (type == TYPE_DATA) {
					earnWindowUpdates();
				}
				if (this.resetsBounded) {
					markAnswered(streamId);
					if ((flags & FLAG_END_STREAM) != 0) {
						callEnded(nanos);
					}
				}
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
	 * @param nanos the ticker now
	 * @return the limit it broke, or {@code null}
	 */
	public @Nullable String resetSent(int streamId, long errorCode, long nanos) {
		if (!this.resetsBounded) {
			return null;
		}
		if (errorCode == REFUSED_STREAM) {
			// a stream over the concurrency limit: opened by the client, never answered
			return unansweredReset(streamId, nanos);
		}
		markAnswered(streamId);
		if (errorCode == CANCEL || errorCode == NO_ERROR) {
			// the server ended the call itself, at its deadline typically
			callEnded(nanos);
		}
		return null;
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

	private void streamOpened(int streamId) {
		this.lastClientStream = streamId;
		earnWindowUpdates();
		if (this.resetsBounded) {
			this.answered[slot(streamId) >>> 6] &= ~(1L << slot(streamId));
		}
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
		this.windowUpdateCredit += this.limits.windowUpdateRatio();
	}

	private @Nullable String unansweredReset(int streamId, long nanos) {
		markAnswered(streamId);
		roll(nanos);
		long allowed = this.limits.maxUnansweredResets() + this.limits.unansweredResetRatio() * this.callsEnded;
		return (++this.unansweredResets > allowed) ? UNANSWERED_RESETS : null;
	}

	private void callEnded(long nanos) {
		roll(nanos);
		this.callsEnded++;
	}

	private boolean isAnswered(int streamId) {
		return (this.answered[slot(streamId) >>> 6] & (1L << slot(streamId))) != 0;
	}

	private void markAnswered(int streamId) {
		this.answered[slot(streamId) >>> 6] |= 1L << slot(streamId);
	}

	/** The ring slot of a client stream: client streams are odd. */
	private static int slot(int streamId) {
		return (streamId >>> 1) & (ANSWERED_RING - 1);
	}

	private void roll(long nanos) {
		if (!this.windowStarted || nanos - this.windowStart >= this.limits.windowNanos()) {
			this.windowStarted = true;
			this.windowStart = nanos;
			this.unsolicitedPingAcks = 0;
			this.settingsFrames = 0;
			this.unansweredResets = 0;
			this.callsEnded = 0;
		}
	}

}
