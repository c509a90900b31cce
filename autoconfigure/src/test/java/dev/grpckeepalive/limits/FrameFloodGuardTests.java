package dev.grpckeepalive.limits;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-connection flood counting, on an injected ticker. */
class FrameFloodGuardTests {

	private static final long WINDOW = Duration.ofSeconds(10).toNanos();

	private final FrameFloodGuard guard = new FrameFloodLimits(WINDOW, 3, 3, 3, 3).newGuard();

	@Test
	void theFrameAfterTheLimitBreaksItWithinOneWindow() {
		for (int i = 0; i < 3; i++) {
			assertThat(this.guard.inbound(FrameFloodGuard.TYPE_SETTINGS, 0, 6, i)).isNull();
		}
		assertThat(this.guard.inbound(FrameFloodGuard.TYPE_SETTINGS, 0, 6, 4)).isEqualTo(FrameFloodGuard.SETTINGS_FRAMES);
	}

	@Test
	void aNewWindowStartsAfterTheLastOneEnded() {
		for (int i = 0; i < 3; i++) {
			assertThat(this.guard.unsolicitedPingAck(0)).isNull();
		}
		assertThat(this.guard.unsolicitedPingAck(WINDOW)).as("the window has passed").isNull();
		assertThat(this.guard.unsolicitedPingAck(WINDOW + 1)).isNull();
		assertThat(this.guard.unsolicitedPingAck(WINDOW + 2)).isNull();
		assertThat(this.guard.unsolicitedPingAck(WINDOW + 3)).isEqualTo(FrameFloodGuard.UNSOLICITED_PING_ACKS);
	}

	@Test
	void settingsAcksDataWithPayloadOrEndStreamAreNotCounted() {
		for (int i = 0; i < 100; i++) {
			assertThat(this.guard.inbound(FrameFloodGuard.TYPE_SETTINGS, FrameFloodGuard.FLAG_ACK, 0, i)).isNull();
			assertThat(this.guard.inbound(FrameFloodGuard.TYPE_DATA, 0, 5, i)).isNull();
			assertThat(this.guard.inbound(FrameFloodGuard.TYPE_DATA, FrameFloodGuard.FLAG_END_STREAM, 0, i)).isNull();
			assertThat(this.guard.inbound(0x1, 0x4, 20, i)).as("HEADERS").isNull();
		}
		for (int i = 0; i < 3; i++) {
			assertThat(this.guard.inbound(FrameFloodGuard.TYPE_DATA, 0, 0, 200)).isNull();
		}
		assertThat(this.guard.inbound(FrameFloodGuard.TYPE_DATA, 0, 0, 200)).isEqualTo(FrameFloodGuard.EMPTY_DATA_FRAMES);
	}

	@Test
	void windowUpdatesAnsweringTheServersDataAreAllowed() {
		for (int i = 0; i < 1000; i++) {
			this.guard.dataSent(i);
		}
		for (int i = 0; i < 1003; i++) {
			assertThat(this.guard.inbound(FrameFloodGuard.TYPE_WINDOW_UPDATE, 0, 4, 1000 + i)).isNull();
		}
		assertThat(this.guard.inbound(FrameFloodGuard.TYPE_WINDOW_UPDATE, 0, 4, 3000))
			.isEqualTo(FrameFloodGuard.WINDOW_UPDATE_FRAMES);
	}

	@Test
	void aLimitTurnedOffNeverBreaks() {
		FrameFloodGuard off = new FrameFloodLimits(WINDOW, FrameFloodLimits.OFF, FrameFloodLimits.OFF,
				FrameFloodLimits.OFF, FrameFloodLimits.OFF).newGuard();
		for (int i = 0; i < 10_000; i++) {
			assertThat(off.unsolicitedPingAck(i)).isNull();
			assertThat(off.inbound(FrameFloodGuard.TYPE_SETTINGS, 0, 0, i)).isNull();
			assertThat(off.inbound(FrameFloodGuard.TYPE_DATA, 0, 0, i)).isNull();
			assertThat(off.inbound(FrameFloodGuard.TYPE_WINDOW_UPDATE, 0, 4, i)).isNull();
		}
	}

}
