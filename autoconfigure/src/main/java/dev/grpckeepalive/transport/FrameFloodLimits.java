package dev.grpckeepalive.transport;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.LimitSetting;
import dev.grpckeepalive.config.ServerLimitSettings;

/**
 * The per-connection limits the frame observer enforces on what a client sends, for floods
 * grpc-java puts no bound on (or bounds only absolutely): a connection that breaks one is
 * closed. {@value #OFF} turns a limit off. Shared by all connections of a server: immutable.
 * {@link FrameFloodGuard} says how each one counts.
 *
 * @param windowNanos the window the per-window limits count in
 * @param maxUnsolicitedPingAcks PING ACKs per window for PINGs the server never sent (a
 * well-behaved client sends none; grpc-java logs a WARN for each)
 * @param maxSettingsFrames SETTINGS frames per window that are not ACKs (each costs the server an ACK)
 * @param maxConsecutiveEmptyFrames DATA, HEADERS and CONTINUATION frames in a row without payload
 * and without END_STREAM (CVE-2019-9518: each costs the server work and carries nothing)
 * @param maxWindowUpdateFrames WINDOW_UPDATE frames over the connection's life beyond those its
 * traffic earns
 * @param windowUpdateRatio WINDOW_UPDATE frames earned by each stream the client opens and each
 * DATA or SETTINGS frame the server sends; not {@link #OFF}
 * @param maxPrematureResets resets per window of streams the server had not answered that opened
 * less than a millisecond before, and streams it refused
 */
record FrameFloodLimits(long windowNanos, int maxUnsolicitedPingAcks, int maxSettingsFrames,
		int maxConsecutiveEmptyFrames, int maxWindowUpdateFrames, int windowUpdateRatio, int maxPrematureResets) {

	/** A limit value that turns the limit off. */
	public static final int OFF = -1;

	/** The limits in force for a server, or {@code null} when all of them are off. */
	public static @Nullable FrameFloodLimits of(ServerLimitSettings limits) {
		if (!limits.anyFrameFloodLimit()) {
			return null;
		}
		return new FrameFloodLimits(limits.floodWindow().requestedNanos(), value(limits.maxUnsolicitedPingAcks()),
				value(limits.maxSettingsFrames()), value(limits.maxConsecutiveEmptyFrames()),
				value(limits.maxWindowUpdateFrames()), limits.windowUpdateRatio().effectiveInt(),
				value(limits.maxPrematureResets()));
	}

	private static int value(LimitSetting setting) {
		return setting.isEnabled() ? setting.effectiveInt() : OFF;
	}

	/** A fresh guard for one new connection. */
	public FrameFloodGuard newGuard() {
		return new FrameFloodGuard(this);
	}

}
