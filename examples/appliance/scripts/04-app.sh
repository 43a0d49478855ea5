#!/bin/sh
# The lab's own files, and the locale it runs in.
set -eu
install -d /opt/lab/bin /var/lib/lab
cat >/opt/lab/bin/lab-agent <<'AGENT'
#!/bin/sh
date -u +%FT%TZ >>/var/lib/lab/boots
AGENT
chmod 0755 /opt/lab/bin/lab-agent
sed -i 's/^# *en_US.UTF-8/en_US.UTF-8/' /etc/locale.gen
locale-gen >/dev/null
update-locale LANG=en_US.UTF-8
