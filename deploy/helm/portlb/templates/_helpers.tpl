{{/*
portlb's config file, as text: the value itself when it is the text of a file (--set-file), else
the map as YAML. The ConfigMaps ship this text; the templates read it back with fromYaml.
*/}}
{{- define "portlb.configText" -}}
{{- if kindIs "string" .Values.config -}}
{{- .Values.config -}}
{{- else -}}
{{- toYaml .Values.config -}}
{{- end -}}
{{- end -}}

{{/*
The config as a map, after the checks of what the objects must agree with: a mode, the
namespace the node agent reads (the release's), an LB pod selector the pods can carry as labels.
Everything else in it is `portlb validate`'s to judge.
*/}}
{{- define "portlb.configYaml" -}}
{{- $config := include "portlb.configText" . | fromYaml -}}
{{- if hasKey $config "Error" -}}
{{- fail (printf "config: not YAML: %s" $config.Error) -}}
{{- end -}}
{{- $k := $config.kubernetes | default dict -}}
{{- if not $config.mode -}}
{{- fail "config.mode: required (auto, bgp, aws or gcp)" -}}
{{- end -}}
{{- if ne (toString $k.namespace) .Release.Namespace -}}
{{- fail (printf "config.kubernetes.namespace: must be the release namespace %q (the node agent reads the LB pods there), not %q" .Release.Namespace (toString ($k.namespace | default ""))) -}}
{{- end -}}
{{- if not $k.lbPodSelector -}}
{{- fail "config.kubernetes.lbPodSelector: required (the LB pods' labels, e.g. app.kubernetes.io/name=web-lb)" -}}
{{- end -}}
{{- range splitList "," (toString $k.lbPodSelector) -}}
{{- if not (regexMatch "^[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*$" (trim .)) -}}
{{- fail (printf "config.kubernetes.lbPodSelector: %q is not key=value; the chart makes the selector the LB pods' labels" (trim .)) -}}
{{- end -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The LB pods' labels: config.kubernetes.lbPodSelector, key=value pairs. */}}
{{- define "portlb.lbLabels" -}}
{{- $config := include "portlb.configYaml" . | fromYaml -}}
{{- $labels := dict -}}
{{- range splitList "," $config.kubernetes.lbPodSelector -}}
{{- $kv := splitList "=" (trim .) -}}
{{- $_ := set $labels (index $kv 0) (index $kv 1) -}}
{{- end -}}
{{- toYaml $labels -}}
{{- end -}}

{{/* The port of a HOST:PORT listen address, or the default. */}}
{{- define "portlb.port" -}}
{{- $listen := index . 0 | default (index . 1) | toString -}}
{{- regexReplaceAll "^.*:" $listen "" -}}
{{- end -}}

{{/* `name` or `name-HASH`: the ConfigMap's name changes with the config, so the pods roll. */}}
{{- define "portlb.configMapName" -}}
{{- printf "%s-%s" (index . 0) (index . 1 | sha256sum | trunc 10) -}}
{{- end -}}

{{- define "portlb.image" -}}
{{- printf "%s:%s" .image.repository (.image.tag | default .appVersion) -}}
{{- end -}}

{{/* bgp, and auto (which may pick bgp), need exabgp in the sidecar's image. */}}
{{- define "portlb.sidecarImage" -}}
{{- $config := include "portlb.configYaml" . | fromYaml -}}
{{- $image := ternary .Values.exabgpImage .Values.image (has $config.mode (list "bgp" "auto")) -}}
{{- include "portlb.image" (dict "image" $image "appVersion" .Chart.AppVersion) -}}
{{- end -}}

{{/* Only aws has one writer, elected by a Lease; auto may become aws. */}}
{{- define "portlb.needsLease" -}}
{{- $config := include "portlb.configYaml" . | fromYaml -}}
{{- if has $config.mode (list "aws" "auto") }}true{{ end -}}
{{- end -}}

{{- define "portlb.leaseName" -}}
{{- $config := include "portlb.configYaml" . | fromYaml -}}
{{- $lease := ($config.kubernetes | default dict).lease | default dict -}}
{{- $lease.name | default (printf "%s-leader" ($config.owner | default "portlb")) -}}
{{- end -}}

{{- define "portlb.partOf" -}}
app.kubernetes.io/part-of: portlb
{{- end -}}

{{/*
terminationGracePeriodSeconds: drain.seconds + W + 20, W being the longest the sidecar waits,
after exabgp's ack of its withdraw, for the router to stop using its next hop: the config's
bgp.shutdown.nextHopWaitSeconds where it sets one (what the sidecar waits), else
lb.shutdown.nextHopWaitSeconds (the sidecar's default, 10). The 20: the withdraw's ack (at most 5 s), stopping exabgp (at
most 5 s), the Events' flush, and then the data plane's and bfdd's own stop.
*/}}
{{- define "portlb.gracePeriod" -}}
{{- $config := include "portlb.configYaml" . | fromYaml -}}
{{- $drain := (($config.drain | default dict).seconds | default 10) -}}
{{- $shutdown := (($config.bgp | default dict).shutdown | default dict) -}}
{{- $wait := ternary $shutdown.nextHopWaitSeconds .Values.lb.shutdown.nextHopWaitSeconds (hasKey $shutdown "nextHopWaitSeconds") -}}
{{- add $drain $wait 20 -}}
{{- end -}}

{{/* The forwarding sysctls the data plane's rules need, one per VIP family in the config. */}}
{{- define "portlb.sysctls" -}}
{{- $config := include "portlb.configYaml" . | fromYaml -}}
{{- $families := dict -}}
{{- range $config.services | default list -}}
{{- $_ := set $families (ternary "6" "4" (contains ":" (toString .vip))) true -}}
{{- end -}}
{{- if hasKey $families "4" }}
- name: net.ipv4.ip_forward
  value: "1"
{{- end -}}
{{- if hasKey $families "6" }}
- name: net.ipv6.conf.all.forwarding
  value: "1"
{{- end -}}
{{- end -}}

{{/* The bgp section when the sidecar may speak BGP (bgp, or auto), else nothing. */}}
{{- define "portlb.bgp" -}}
{{- $config := include "portlb.configYaml" . | fromYaml -}}
{{- if and (has $config.mode (list "bgp" "auto")) $config.bgp -}}
{{- toYaml $config.bgp -}}
{{- end -}}
{{- end -}}

{{/*
The one directory that holds every TCP-MD5 key file bgp.peers[].passwordFile names, where the
Secret bgp.md5Secret is mounted; empty without keys. Keys elsewhere fail, naming the field.
*/}}
{{- define "portlb.md5Dir" -}}
{{- $bgp := include "portlb.bgp" . | fromYaml -}}
{{- $dirs := list -}}
{{- range $i, $peer := $bgp.peers | default list -}}
{{- if $peer.passwordFile -}}
{{- $dir := dir (toString $peer.passwordFile) -}}
{{- if or (eq $dir "/etc/portlb") (hasPrefix "/etc/portlb/" $dir) -}}
{{- fail (printf "config.bgp.peers[%d].passwordFile: %q is inside /etc/portlb, where the config is mounted; put the keys in a directory of their own (e.g. /etc/portlb-bgp/rr.key)" $i $peer.passwordFile) -}}
{{- end -}}
{{- $dirs = append $dirs $dir | uniq -}}
{{- end -}}
{{- end -}}
{{- if gt (len $dirs) 1 -}}
{{- fail (printf "config.bgp.peers[].passwordFile: the key files are in %s; the chart mounts one Secret (bgp.md5Secret) in one directory" (join ", " $dirs)) -}}
{{- end -}}
{{- first $dirs | default "" -}}
{{- end -}}
