<#vigil:task-status#>
# Answers "how is it going" for an operation Vigil started: the job that
# carries it (if this process still knows it), and the platform's own truth
# (where the VM is and in which state, the node's state and drain status).
# The provider decides from both; a job lost with a replaced session still
# leaves the platform's truth to go by.
param([string]$InputB64)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'
try {
    $in = ConvertFrom-VigilInput $InputB64
    $out = [ordered]@{}

    if ($in.job) {
        $jobBlock = {
            param([string]$JobId)
            $job = Get-Job -InstanceId ([guid]$JobId) -ErrorAction SilentlyContinue
            if (-not $job) {
                return (ConvertTo-Json -InputObject ([ordered]@{ found = $false }) -Compress)
            }
            $reason = $null
            if ([string]$job.State -eq 'Failed') {
                $child = @($job.ChildJobs)[0]
                if ($child -and $child.JobStateInfo.Reason) {
                    $reason = [string]$child.JobStateInfo.Reason.Message
                } elseif ($job.JobStateInfo.Reason) {
                    $reason = [string]$job.JobStateInfo.Reason.Message
                }
            }
            ConvertTo-Json -InputObject ([ordered]@{ found = $true; state = [string]$job.State; reason = $reason }) -Compress
        }
        # The job lives in the remote session that started it; if that session
        # was replaced, the job is gone and found is false.
        $known = $global:VigilConn.sessions[[string]$in.job.node]
        if ($known -and $known.State -eq 'Opened') {
            $out.job = ConvertFrom-Json ([string](Invoke-VigilOn -Computer ([string]$in.job.node) -Block $jobBlock -ArgumentList @([string]$in.job.id)))
        } else {
            $out.job = [ordered]@{ found = $false }
        }
    }

    if ($in.group -or $in.node) {
        $argsJson = ConvertTo-Json -InputObject ([ordered]@{ group = $in.group; node = $in.node }) -Compress
        $clusterBlock = {
            param([string]$ArgsJson)
            $ErrorActionPreference = 'Stop'
            $a = ConvertFrom-Json $ArgsJson
            $r = [ordered]@{}
            if ($a.group) {
                $g = Get-ClusterGroup | Where-Object { $_.Name -ceq [string]$a.group }
                if ($g) {
                    $r.group = [ordered]@{ found = $true; owner = [string]$g.OwnerNode.Name; state = [string]$g.State }
                } else {
                    $r.group = [ordered]@{ found = $false }
                }
            }
            if ($a.node) {
                $n = Get-ClusterNode | Where-Object { $_.Name -eq [string]$a.node }
                if ($n) {
                    $owned = @(Get-ClusterGroup | Where-Object { [string]$_.GroupType -eq 'VirtualMachine' -and $_.OwnerNode.Name -eq $n.Name -and [string]$_.State -ne 'Offline' } | ForEach-Object { [string]$_.Name })
                    $r.node = [ordered]@{ found = $true; state = [string]$n.State; status = [string]$n.StatusInformation; drainStatus = [string]$n.DrainStatus; roles = $owned }
                } else {
                    $r.node = [ordered]@{ found = $false }
                }
            }
            ConvertTo-Json -InputObject $r -Depth 4 -Compress
        }
        $reached = Invoke-VigilOnCluster -Seeds @($in.seeds) -Block $clusterBlock -ArgumentList @($argsJson)
        $cluster = ConvertFrom-Json ([string]$reached.answer)
        if ($in.group) {
            $out.group = $cluster.group
        }
        if ($in.node) {
            $out.node = $cluster.node
        }
    }

    if ($in.vm) {
        $vmBlock = {
            param([string]$VmId)
            $vm = Get-VM -Id ([guid]$VmId) -ErrorAction SilentlyContinue
            if ($vm) {
                return (ConvertTo-Json -InputObject ([ordered]@{ found = $true; state = [string]$vm.State; status = [string]$vm.Status }) -Compress)
            }
            ConvertTo-Json -InputObject ([ordered]@{ found = $false }) -Compress
        }
        $fan = Invoke-VigilFanOut -Computers @($in.vm.hosts) -Block $vmBlock -ArgumentList @([string]$in.vm.id)
        $seen = [ordered]@{}
        foreach ($h in @($in.vm.hosts)) {
            if ($fan.answers.ContainsKey([string]$h)) {
                $seen[[string]$h] = ConvertFrom-Json $fan.answers[[string]$h]
            } else {
                $seen[[string]$h] = [ordered]@{ found = $null; error = [string]$fan.errors[[string]$h] }
            }
        }
        $out.vm = $seen
    }

    Write-VigilOk $out
} catch {
    Write-VigilFailure $_
}
