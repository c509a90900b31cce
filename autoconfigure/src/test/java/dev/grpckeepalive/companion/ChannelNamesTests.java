package dev.grpckeepalive.companion;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The bounded names of the channels Spring Boot creates from targets. */
class ChannelNamesTests {

	@Test
	void targetsBecomeNamesOfSafeCharacters() {
		// Spring Boot dials static:// and tcp:// targets as the bare address: one name for both
		assertThat(ChannelNames.fromTarget("static://localhost:9090")).isEqualTo("localhost:9090");
		assertThat(ChannelNames.fromTarget("tcp://localhost:9090")).isEqualTo("localhost:9090");
		assertThat(ChannelNames.fromTarget("localhost:9090")).isEqualTo("localhost:9090");
		assertThat(ChannelNames.fromTarget("dns:///orders.internal:443")).isEqualTo("dns:orders.internal:443");
		assertThat(ChannelNames.fromTarget("dns://8.8.8.8/orders:443")).isEqualTo("dns:8.8.8.8_orders:443");
		assertThat(ChannelNames.fromTarget("unix:///run/app.sock")).isEqualTo("unix:run_app.sock");
		assertThat(ChannelNames.fromTarget("ipv6:[::1]:9090")).isEqualTo("ipv6:_::1_:9090");
		assertThat(ChannelNames.fromTarget("static://host/with path?q=1")).isEqualTo("host_with_path_q_1");
	}

	@Test
	void longTargetsAreCutAndStayApart() {
		String a = ChannelNames.fromTarget("dns:///" + "a".repeat(100) + ".example:1");
		String b = ChannelNames.fromTarget("dns:///" + "a".repeat(100) + ".example:2");
		assertThat(a).hasSize(ChannelNames.MAX_LENGTH).startsWith("dns:aaaa");
		assertThat(b).hasSize(ChannelNames.MAX_LENGTH).isNotEqualTo(a);
	}

	@Test
	void distinctNamesFromTargetsAreCappedAndTheRestShareOne() {
		ChannelNames names = new ChannelNames(Set.of("orders"));
		Set<String> seen = new HashSet<>();
		for (int i = 0; i < 100; i++) {
			seen.add(names.forTarget("static://host-" + i + ":9090"));
		}
		assertThat(seen).hasSize(ChannelNames.MAX_TARGET_NAMES + 1).contains("host-0:9090", ChannelNames.OVERFLOW);
		// a target named before the cap keeps its name
		assertThat(names.forTarget("host-0:9090")).isEqualTo("host-0:9090");
		assertThat(names.forTarget("static://host-99:9090")).isEqualTo(ChannelNames.OVERFLOW);
	}

	@Test
	void namesFromTargetsStayApartFromConfiguredNamesAndTheOverflowName() {
		ChannelNames names = new ChannelNames(Set.of("orders", ChannelNames.configured("a/b")));
		assertThat(ChannelNames.configured("orders")).isEqualTo("orders");
		assertThat(ChannelNames.configured("a/b")).isEqualTo("a_b");
		assertThat(names.forTarget("static://orders")).isEqualTo("target:orders");
		assertThat(names.forTarget("a/b")).isEqualTo("target:a_b");
		assertThat(names.forTarget("other")).isEqualTo("target:other");
		assertThat(names.overflow()).isEqualTo(ChannelNames.OVERFLOW);
		assertThat(new ChannelNames(Set.of("other")).overflow()).isEqualTo("target:other");
	}

}
