package dev.grpckeepalive.limits;

import dev.grpckeepalive.config.LimitSetting;
import dev.grpckeepalive.config.ServerLimitSettings;

/**
 * The per-connection frame-flood limits the frame observer enforces, for floods grpc-java
 * puts no bound on: each counts one kind of frame a client sends in a fixed window of
 * {@code windowNanos}, and a connection that sends one more than its limit is closed.
 * {@value #OFF} turns a limit off. Shared by all connections of a server: immutable.
 *
 * @param windowNanos the window every limit counts in
 * @param maxUnsolicitedPingAcks PING ACKs for PINGs the server never sent (a well-behaved
 * client sends none; grpc-java logs a WARN for each)
 * @param maxSettingsFrames SETTINGS frames that are not ACKs (each costs the server an ACK)
 * @param maxEmptyDataFrames DATA frames without payload and without END_STREAM
 * (CVE-2019-9518: each costs the server work and carries nothing)
 * @param maxWindowUpdateFrames WINDOW_UPDATE frames beyond one per DATA frame the server sent
 * in the window (a client's flow control answers the server's DATA; more than that is noise)
 */
public record FrameFloodLimits(long windowNanos, int maxUnsolicitedPingAcks, int maxSettingsFrames,
		int maxEmptyDataFrames, int maxWindowUpdateFrames) {

	/** A limit value that turns the limit off. */
	public static final int OFF = -1;

	/** The limits in force for a server, or {@code null} when all of them are off. */
	public static FrameFloodLimits of(ServerLimitSettings limits) {
		if (!limits.anyFrameFloodLimit()) {
			return null;
		}
		return new FrameFloodLimits(limits.floodWindow().requestedNanos(), value(limits.maxUnsolicitedPingAcks()),
				value(limits.maxSettingsFrames()), value(limits.maxEmptyDataFrames()),
				value(limits.maxWindowUpdateFrames()));
	}

	private static int value(LimitSetting setting) {
		return setting.isEnabled() ? setting.effectiveInt() : OFF;
	}

	/** A fresh guard for one new connection. */
	public FrameFloodGuard newGuard() {
		return new FrameFloodGuard(this);
	}

}
