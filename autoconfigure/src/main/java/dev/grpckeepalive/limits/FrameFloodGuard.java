package dev.grpckeepalive.limits;

import org.jspecify.annotations.Nullable;

/**
 * Counts, for one server connection, the frames that {@link FrameFloodLimits} bound, and
 * says which limit a frame broke. Used by the frame observer on the connection's event loop
 * only: plain fields, no locks, no allocation.
 *
 * <p>Each limit counts in a fixed window that starts with the first frame counted after the
 * previous window ended, as grpc-java's reset limit does: a client may send a burst of the
 * limit at any moment, and about the limit per window sustained.
 */
public final class FrameFloodGuard {

	/** Limit name of {@link FrameFloodLimits#maxUnsolicitedPingAcks()}. */
	public static final String UNSOLICITED_PING_ACKS = "max-unsolicited-ping-acks";

	/** Limit name of {@link FrameFloodLimits#maxSettingsFrames()}. */
	public static final String SETTINGS_FRAMES = "max-settings-frames";

	/** Limit name of {@link FrameFloodLimits#maxEmptyDataFrames()}. */
	public static final String EMPTY_DATA_FRAMES = "max-empty-data-frames";

	/** Limit name of {@link FrameFloodLimits#maxWindowUpdateFrames()}. */
	public static final String WINDOW_UPDATE_FRAMES = "max-window-update-frames";

	static final int TYPE_DATA = 0x0;

	static final int TYPE_SETTINGS = 0x4;

	static final int TYPE_WINDOW_UPDATE = 0x8;

	static final int FLAG_END_STREAM = 0x1;

	static final int FLAG_ACK = 0x1;

	private final FrameFloodLimits limits;

	private boolean windowStarted;

	private long windowStart;

	private int unsolicitedPingAcks;

	private int settingsFrames;

	private int emptyDataFrames;

	private int windowUpdateFrames;

	private int dataFramesSent;

	FrameFloodGuard(FrameFloodLimits limits) {
		this.limits = limits;
	}

	/**
	 * A frame arrived from the client.
	 * @param type the frame type
	 * @param flags the frame flags
	 * @param length the payload length
	 * @param nanos the ticker now
	 * @return the limit it broke, or {@code null}
	 */
	public @Nullable String inbound(int type, int flags, int length, long nanos) {
		switch (type) {
			case TYPE_SETTINGS -> {
				if ((flags & FLAG_ACK) == 0 && this.limits.maxSettingsFrames() != FrameFloodLimits.OFF) {
					roll(nanos);
					return (++this.settingsFrames > this.limits.maxSettingsFrames()) ? SETTINGS_FRAMES : null;
				}
			}
			case TYPE_DATA -> {
				if (length == 0 && (flags & FLAG_END_STREAM) == 0
						&& this.limits.maxEmptyDataFrames() != FrameFloodLimits.OFF) {
					roll(nanos);
					return (++this.emptyDataFrames > this.limits.maxEmptyDataFrames()) ? EMPTY_DATA_FRAMES : null;
				}
			}
			case TYPE_WINDOW_UPDATE -> {
				if (this.limits.maxWindowUpdateFrames() != FrameFloodLimits.OFF) {
					roll(nanos);
					long allowed = (long) this.limits.maxWindowUpdateFrames() + this.dataFramesSent;
					return (++this.windowUpdateFrames > allowed) ? WINDOW_UPDATE_FRAMES : null;
				}
			}
			default -> {
				// not bounded here
			}
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

	/** The server sent a DATA frame: the client may answer it with a WINDOW_UPDATE. */
	public void dataSent(long nanos) {
		if (this.limits.maxWindowUpdateFrames() != FrameFloodLimits.OFF) {
			roll(nanos);
			this.dataFramesSent++;
		}
	}

	private void roll(long nanos) {
		if (!this.windowStarted || nanos - this.windowStart >= this.limits.windowNanos()) {
			this.windowStarted = true;
			this.windowStart = nanos;
			this.unsolicitedPingAcks = 0;
			this.settingsFrames = 0;
			this.emptyDataFrames = 0;
			this.windowUpdateFrames = 0;
			this.dataFramesSent = 0;
		}
	}

}
